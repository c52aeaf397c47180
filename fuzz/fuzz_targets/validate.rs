//! Feeds arbitrary bytes to the image validator: it must never panic, hang
//! or grow without bound, and a safe verdict must mean no violations.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm::image::validate::{Limits, Policy, Verdict, validate_reader};

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the rules are the same.
    let limits = Limits {
        max_unpacked_bytes: 16 << 20,
        max_entries: 2_000,
        max_path_len: 4096,
        max_component_len: 255,
        max_depth: 64,
        max_symlink_hops: 40,
        max_ratio: 100,
    };
    for policy in [
        Policy::default(),
        Policy {
            allow_devices: true,
            allow_setuid: true,
        },
    ] {
        let report = validate_reader(data, &limits, &policy).expect("a byte slice never fails to read");
        match report.verdict {
            Verdict::Safe => {
                assert!(report.violations.is_empty());
                assert!(report.counts.entries <= limits.max_entries);
                assert!(report.unpacked_bytes <= limits.max_unpacked_bytes);
            }
            Verdict::Rejected => assert!(!report.violations.is_empty()),
        }
    }
});
