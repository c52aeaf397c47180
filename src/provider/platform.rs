//! What `pm provider register` records about the host: OS, distribution,
//! kernel, architecture, CPU, memory, GPUs and the Python version. Read from
//! the kernel's own files and `uname`; a value that cannot be read is left
//! out (`null`) rather than guessed.

use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    /// `linux`, `macos`.
    pub os: String,
    /// `PRETTY_NAME` of /etc/os-release (`Debian GNU/Linux 12 (bookworm)`).
    pub distro: Option<String>,
    /// The kernel release (`uname -r`).
    pub kernel: Option<String>,
    pub arch: String,
    pub cpu_model: Option<String>,
    pub cpus: u64,
    pub memory_bytes: Option<u64>,
    /// GPU models, empty when there are none.
    pub gpus: Vec<String>,
    /// The version of `provider.python`, which the venv is made from.
    pub python: Option<String>,
}

/// The host as it is now; `python` is the interpreter's version, found by
/// the caller (it runs a program).
pub fn detect(python: Option<String>) -> Platform {
    Platform {
        os: std::env::consts::OS.to_string(),
        distro: os_release_name(&read("/etc/os-release").unwrap_or_default()),
        kernel: uname_release(),
        arch: std::env::consts::ARCH.to_string(),
        cpu_model: cpu_model(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
        memory_bytes: memory_bytes(),
        gpus: gpus(),
        python,
    }
}

/// The fields that differ between two records, for `register`'s report.
pub fn differences(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return vec!["platform".to_string()];
    };
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn os_release_name(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

fn uname_release() -> Option<String> {
    // SAFETY: uname fills the zeroed struct; its fields are NUL-terminated.
    unsafe {
        let mut name: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut name) != 0 {
            return None;
        }
        let release = std::ffi::CStr::from_ptr(name.release.as_ptr());
        Some(release.to_string_lossy().into_owned())
    }
}

#[cfg(target_os = "linux")]
fn cpu_model() -> Option<String> {
    let text = read("/proc/cpuinfo")?;
    // x86 says "model name", many ARM kernels only "Hardware" or "Model".
    ["model name", "Hardware", "Model"].iter().find_map(|key| {
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim() == *key)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    })
}

#[cfg(target_os = "linux")]
fn memory_bytes() -> Option<u64> {
    let text = read("/proc/meminfo")?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(target_os = "macos")]
fn cpu_model() -> Option<String> {
    sysctl_string(c"machdep.cpu.brand_string")
}

#[cfg(target_os = "macos")]
fn memory_bytes() -> Option<u64> {
    let mut value: u64 = 0;
    let mut len = std::mem::size_of::<u64>();
    // SAFETY: hw.memsize is a u64; `value` and `len` describe its buffer.
    let ok = unsafe {
        libc::sysctlbyname(
            c"hw.memsize".as_ptr(),
            (&mut value as *mut u64).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    } == 0;
    ok.then_some(value)
}

#[cfg(target_os = "macos")]
fn sysctl_string(name: &std::ffi::CStr) -> Option<String> {
    let mut buf = [0u8; 256];
    let mut len = buf.len();
    // SAFETY: the buffer and its length are valid; sysctl writes at most len.
    let ok = unsafe {
        libc::sysctlbyname(
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    } == 0;
    let text = String::from_utf8_lossy(&buf[..len.min(buf.len())]);
    ok.then(|| text.trim_end_matches('\0').trim().to_string())
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn cpu_model() -> Option<String> {
    None
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn memory_bytes() -> Option<u64> {
    None
}

/// NVIDIA GPUs as the driver lists them (`Model:` in
/// /proc/driver/nvidia/gpus/*/information), else display devices of other
/// vendors by PCI vendor id. Empty on hosts without either.
fn gpus() -> Vec<String> {
    let mut found = nvidia_gpus(Path::new("/proc/driver/nvidia/gpus"));
    if found.is_empty() {
        found = drm_gpus(Path::new("/sys/class/drm"));
    }
    found
}

fn nvidia_gpus(dir: &Path) -> Vec<String> {
    let mut models: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("information")).ok())
        .filter_map(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("Model:"))
                .map(|m| m.trim().to_string())
        })
        .collect();
    models.sort();
    models
}

fn drm_gpus(dir: &Path) -> Vec<String> {
    let vendor_name = |id: &str| match id {
        "0x10de" => "NVIDIA",
        "0x1002" => "AMD",
        "0x8086" => "Intel",
        _ => "other",
    };
    let mut cards: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("card") && !name.contains('-')
        })
        .filter_map(|e| {
            let device = e.path().join("device");
            let vendor = std::fs::read_to_string(device.join("vendor")).ok()?;
            let model = std::fs::read_to_string(device.join("device")).unwrap_or_default();
            Some(format!("{} {}", vendor_name(vendor.trim()), model.trim()))
        })
        .collect();
    cards.sort();
    cards
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_host_is_described_with_what_it_has() {
        let p = detect(Some("3.11.7".to_string()));
        assert_eq!(p.os, std::env::consts::OS);
        assert!(p.cpus >= 1);
        #[cfg(target_os = "linux")]
        assert!(p.memory_bytes.is_some_and(|m| m > 0) && p.kernel.is_some());
    }

    #[test]
    fn os_release_and_differences_are_read_as_written() {
        let text = "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(
            os_release_name(text).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        let old = json!({"cpus": 2, "memory_bytes": 1, "os": "linux"});
        let new = json!({"cpus": 4, "memory_bytes": 1, "os": "linux", "gpus": []});
        assert_eq!(differences(&old, &new), ["cpus", "gpus"]);
    }

    #[test]
    fn nvidia_models_come_from_the_driver_files() {
        let dir = tempfile::tempdir().unwrap();
        for (bus, model) in [
            ("0000:02:00.0", "NVIDIA L4"),
            ("0000:01:00.0", "NVIDIA A10"),
        ] {
            let gpu = dir.path().join(bus);
            std::fs::create_dir(&gpu).unwrap();
            std::fs::write(
                gpu.join("information"),
                format!("Model: \t {model}\nIRQ: 1\n"),
            )
            .unwrap();
        }
        assert_eq!(nvidia_gpus(dir.path()), ["NVIDIA A10", "NVIDIA L4"]);
    }
}
