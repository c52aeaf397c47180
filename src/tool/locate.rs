//! Finding a tool's executable and the environment it starts from.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Variables every tool may see from pm's environment: where to find
/// programs and home, the locale and time zone, temporary files, proxies and
/// CA bundles. Everything else (pm's own `PM_*` settings, a caller's
/// password variable, unrelated credentials) stays out unless the tool's
/// [`ToolSpec`](super::ToolSpec) or the call adds it. A trailing `*` matches
/// a prefix.
pub const COMMON_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// A path to an executable: `program` itself when it names a path, else the
/// first match in `path_var` (a `PATH` value).
pub fn find_program(program: &str, path_var: Option<&str>) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable(&path).then_some(path);
    }
    path_var?
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(program))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The part of `env` a tool may see: the names in [`COMMON_ENV`] and in
/// `extra`.
pub fn scrub_env(env: &BTreeMap<String, String>, extra: &[&str]) -> BTreeMap<String, String> {
    env.iter()
        .filter(|(name, _)| {
            COMMON_ENV
                .iter()
                .chain(extra)
                .any(|pattern| name_matches(pattern, name))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_by_path_or_in_path() {
        assert_eq!(
            find_program("sh", Some("/nonexistent:/bin:/usr/bin")),
            Some(PathBuf::from("/bin/sh"))
        );
        assert_eq!(find_program("no-such-program-pm", Some("/bin")), None);
        assert_eq!(
            find_program("/bin/sh", None),
            Some(PathBuf::from("/bin/sh"))
        );
        assert_eq!(find_program("", Some("/bin")), None);
        let dir = tempfile::tempdir().unwrap();
        let not_executable = dir.path().join("bw");
        std::fs::write(&not_executable, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&not_executable, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(find_program(not_executable.to_str().unwrap(), None), None);
    }

    #[test]
    fn the_environment_keeps_only_allowed_names() {
        let env: BTreeMap<String, String> = [
            ("PATH", "/bin"),
            ("LC_TIME", "C"),
            ("PM_STATE", "/x"),
            ("AWS_SECRET_ACCESS_KEY", "s3cret"),
            ("BW_SESSION", "stale"),
            ("BITWARDENCLI_APPDATA_DIR", "/data"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let kept = scrub_env(&env, &["BITWARDENCLI_*"]);
        let names: Vec<&str> = kept.keys().map(String::as_str).collect();
        assert_eq!(names, ["BITWARDENCLI_APPDATA_DIR", "LC_TIME", "PATH"]);
    }
}
