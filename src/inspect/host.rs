//! The host itself: platform, distribution, kernel, CPU, memory, uptime.
//! Read from `uname(2)`, `/etc/os-release` and `/proc`; where a file does
//! not exist (macOS, a minimal container) the fact is `null`, not an error.

use schemars::JsonSchema;
use serde::Serialize;
use std::ffi::CStr;
use std::path::Path;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct HostFacts {
    pub hostname: String,
    /// `linux`, `macos`.
    pub os: &'static str,
    /// `x86_64`, `aarch64`.
    pub arch: &'static str,
    pub distro: Option<Distro>,
    pub kernel: Kernel,
    pub cpu: Cpu,
    pub memory: Option<Memory>,
    pub uptime_secs: Option<u64>,
    /// The 1, 5 and 15 minute load averages.
    pub load: Option<[f64; 3]>,
}

/// From `/etc/os-release` (os-release(5)).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Distro {
    pub id: Option<String>,
    pub name: Option<String>,
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Kernel {
    /// `uname -r`.
    pub release: String,
    /// `uname -v`.
    pub version: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Cpu {
    pub model: Option<String>,
    /// CPUs this process may run on.
    pub count: usize,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Memory {
    pub total_bytes: u64,
    /// What the kernel estimates can be had without swapping.
    pub available_bytes: Option<u64>,
}

pub fn probe() -> HostFacts {
    let uts = Uname::now();
    HostFacts {
        hostname: uts.nodename.clone(),
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        distro: read(Path::new("/etc/os-release")).map(|text| parse_os_release(&text)),
        kernel: Kernel {
            release: uts.release,
            version: uts.version,
        },
        cpu: Cpu {
            model: read(Path::new("/proc/cpuinfo")).and_then(|t| cpu_model(&t)),
            count: std::thread::available_parallelism().map_or(1, |n| n.get()),
        },
        memory: read(Path::new("/proc/meminfo")).and_then(|t| parse_meminfo(&t)),
        uptime_secs: read(Path::new("/proc/uptime")).and_then(|t| {
            let first = t.split_whitespace().next()?;
            first.parse::<f64>().ok().map(|s| s as u64)
        }),
        load: read(Path::new("/proc/loadavg")).and_then(|t| parse_loadavg(&t)),
    }
}

/// The host name as `uname -n` reports it (also used by the bundle's
/// host obfuscation).
pub fn hostname() -> String {
    Uname::now().nodename
}

/// `uname -r`, for finding the kernel's modules.
pub fn kernel_release() -> String {
    Uname::now().release
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

struct Uname {
    nodename: String,
    release: String,
    version: String,
}

impl Uname {
    fn now() -> Uname {
        // SAFETY: utsname is plain data; uname fills it with NUL-terminated
        // strings and cannot fail with a valid pointer.
        let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::uname(&mut uts) } == 0;
        let text = |field: &[libc::c_char]| {
            if !ok {
                return String::new();
            }
            // SAFETY: uname NUL-terminates each field within its array.
            unsafe { CStr::from_ptr(field.as_ptr()) }
                .to_string_lossy()
                .into_owned()
        };
        Uname {
            nodename: text(&uts.nodename),
            release: text(&uts.release),
            version: text(&uts.version),
        }
    }
}

/// `KEY=value` lines, values optionally quoted.
pub fn parse_os_release(text: &str) -> Distro {
    let get = |key: &str| {
        text.lines().find_map(|line| {
            let value = line.trim().strip_prefix(key)?.strip_prefix('=')?;
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            Some(value.to_string())
        })
    };
    Distro {
        id: get("ID"),
        name: get("NAME"),
        version_id: get("VERSION_ID"),
        pretty_name: get("PRETTY_NAME"),
    }
}

/// x86 says `model name`; many ARM kernels only `Hardware` or `Model`.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    ["model name", "Hardware", "Model", "cpu model"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|line| {
                let (k, v) = line.split_once(':')?;
                (k.trim() == *key).then(|| v.trim().to_string())
            })
        })
        .filter(|m| !m.is_empty())
}

fn parse_meminfo(text: &str) -> Option<Memory> {
    let kib = |key: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(key)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse::<u64>().ok()
        })
    };
    Some(Memory {
        total_bytes: kib("MemTotal")? * 1024,
        available_bytes: kib("MemAvailable").map(|k| k * 1024),
    })
}

fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_values_are_unquoted() {
        let d = parse_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
        );
        assert_eq!(d.id.as_deref(), Some("debian"));
        assert_eq!(d.version_id.as_deref(), Some("12"));
        assert_eq!(
            d.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn meminfo_and_loadavg_parse() {
        let m =
            parse_meminfo("MemTotal:       16384 kB\nMemFree: 1 kB\nMemAvailable:    8192 kB\n")
                .unwrap();
        assert_eq!(
            (m.total_bytes, m.available_bytes),
            (16 << 20, Some(8 << 20))
        );
        assert_eq!(
            parse_loadavg("0.50 0.25 0.10 1/100 42\n"),
            Some([0.5, 0.25, 0.1])
        );
        assert_eq!(
            cpu_model("processor: 0\nmodel name\t: Fancy CPU\n").as_deref(),
            Some("Fancy CPU")
        );
    }
}
