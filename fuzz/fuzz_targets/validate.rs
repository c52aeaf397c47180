//! Feeds arbitrary bytes to the image validator: it must never panic, hang
//! or grow without bound, and a safe verdict must mean no violations.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm::image::validate::{Limits, Policy, Verdict, validate_reader};
use pm::image::violation::MAX_KEPT;

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the rules are the same.
    let limits = Limits {
        max_unpacked_size: 16 << 20,
        max_entries: 2_000,
        max_depth: 64,
        max_total_symlink_hops: 10_000,
        ..Limits::default()
    };
    for policy in [
        Policy::default(),
        Policy {
            allow_devices: true,
            allow_setuid: true,
        },
    ] {
        let report =
            validate_reader(data, &limits, &policy).expect("a byte slice never fails to read");
        assert!(report.violations.len() <= MAX_KEPT);
        assert!(report.notices.len() <= MAX_KEPT);
        let counted: u64 = report.violation_counts.values().sum();
        assert!(counted >= report.violations.len() as u64);
        match report.verdict {
            Verdict::Safe => {
                assert!(report.violations.is_empty() && counted == 0);
                assert!(report.counts.entries <= limits.max_entries);
                assert!(report.unpacked_bytes <= limits.max_unpacked_size);
            }
            Verdict::Rejected => assert!(!report.violations.is_empty()),
        }
    }
});
