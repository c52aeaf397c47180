//! What Ray's messages mean: one table from Ray's own words (those of Ray
//! 2.60, as `ray start`, `ray health-check` and the GCS client print them)
//! to a cause pm understands. A new message is one line in [`MESSAGES`].

use crate::tool::Messages;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RayMessage {
    /// The head refused the token (wrong, or none given to a token cluster).
    AuthRejected,
    /// `RAY_AUTH_MODE=token` and no token anywhere.
    NoToken,
    /// The GCS did not answer.
    Unreachable,
    /// `ray start` compared versions with the head and refused.
    VersionMismatch,
    /// The temp dir is too long for Ray's Unix sockets.
    SocketPathTooLong,
    /// The venv's Python has no Ray.
    RayMissing,
    /// A port Ray wanted is taken.
    PortInUse,
}

/// Substrings of Ray's output, most specific first.
pub const MESSAGES: &[(&str, RayMessage)] = &[
    (
        "Token authentication is enabled but no authentication token was found",
        RayMessage::NoToken,
    ),
    ("InvalidAuthToken", RayMessage::AuthRejected),
    ("AuthenticationError", RayMessage::AuthRejected),
    ("Version mismatch", RayMessage::VersionMismatch),
    ("Ray version mismatch", RayMessage::VersionMismatch),
    (
        "AF_UNIX path length cannot exceed",
        RayMessage::SocketPathTooLong,
    ),
    ("No module named 'ray'", RayMessage::RayMissing),
    (
        "Timed out while waiting for GCS to become available",
        RayMessage::Unreachable,
    ),
    ("Failed to connect to GCS", RayMessage::Unreachable),
    (
        "Could not find any running Ray instance",
        RayMessage::Unreachable,
    ),
    ("Address already in use", RayMessage::PortInUse),
];

/// Ray's table for the process driver.
pub struct RayMessages;

impl Messages for RayMessages {
    type Cause = RayMessage;
    const TABLE: &'static [(&'static str, RayMessage)] = MESSAGES;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines exactly as Ray 2.60 printed them (ansible-ray.md).
    #[test]
    fn rays_own_failures_are_recognised() {
        let cases = [
            (
                "ray.exceptions.AuthenticationError: RPC error: InvalidAuthToken: Authentication token is missing or incorrect.",
                RayMessage::AuthRejected,
            ),
            (
                "ray.exceptions.AuthenticationError: Token authentication is enabled but no authentication token was found. Ensure that the token",
                RayMessage::NoToken,
            ),
            (
                "ray.exceptions.RpcError: Timed out while waiting for GCS to become available.",
                RayMessage::Unreachable,
            ),
            (
                "RuntimeError: Version mismatch: The cluster was started with:\n    Ray: 2.60.0\n    Python: 3.11.7",
                RayMessage::VersionMismatch,
            ),
            (
                "OSError: validate_socket_filename failed: AF_UNIX path length cannot exceed 107 bytes: /x/session_1/sockets/plasma_store",
                RayMessage::SocketPathTooLong,
            ),
            (
                "ModuleNotFoundError: No module named 'ray'",
                RayMessage::RayMissing,
            ),
        ];
        for (text, cause) in cases {
            assert_eq!(RayMessages::classify(text), Some(cause), "{text}");
        }
        assert_eq!(RayMessages::classify("Ray runtime started."), None);
    }
}
