//! The child process itself: spawning it in its own session (pty or pipes),
//! reading what it prints under a deadline, and reaping it or killing its
//! whole process group.
//!
//! Everything waits in poll(2) rather than spinning: the tools pm drives
//! (a Node program, Python) need the CPU more than pm does.

use super::buffer::SecretBuf;
use super::terminal::clean_terminal_output;
use super::{Exit, Stream};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait between checks for the child's exit while its output is
/// still open, and between checks once it is closed. Only a child that
/// closed its output and kept running, or left a descendant holding it,
/// makes these matter.
const EXIT_CHECK: Duration = Duration::from_millis(50);
const EXIT_POLL: Duration = Duration::from_millis(5);

/// Once the child has exited, how long a descendant may keep its output open
/// before pm stops reading: a daemon the tool started (ray's) must not hold
/// pm until the deadline and then be killed with the group.
const DRAIN_GRACE: Duration = Duration::from_millis(250);

/// How long to wait for a killed group's leader to be reaped. SIGKILL is
/// not delivered while a process sleeps uninterruptibly (I/O to a hung
/// device), and pm must not hang with it.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Most bytes kept of one stream; the rest is counted, not stored.
pub const CAPTURE_LIMIT: usize = 16 << 20;

/// One output stream being read.
pub struct Source {
    file: File,
    pub stream: Stream,
    pub captured: SecretBuf,
    /// The unfinished line, kept only when lines are handed on.
    partial: SecretBuf,
    open: bool,
}

impl Source {
    pub fn new(file: File, stream: Stream) -> Source {
        Source {
            file,
            stream,
            captured: SecretBuf::with_limit(CAPTURE_LIMIT),
            partial: SecretBuf::with_limit(CAPTURE_LIMIT),
            open: true,
        }
    }
}

/// A secret on its way into the child's stdin pipe.
pub struct StdinFeed<'a> {
    file: File,
    data: &'a [u8],
    written: usize,
}

impl<'a> StdinFeed<'a> {
    pub fn new(fd: OwnedFd, data: &'a [u8]) -> io::Result<StdinFeed<'a>> {
        let file = File::from(fd);
        set_nonblocking(&file)?;
        Ok(StdinFeed {
            file,
            data,
            written: 0,
        })
    }
}

/// Receives each complete line of output as it arrives.
pub type LineSink<'a> = &'a mut dyn FnMut(Stream, &str);

/// How the reading ended.
pub enum Ended {
    Exited(Exit),
    TimedOut,
}

/// A child running in a pty (its controlling terminal, in a session of its
/// own). Keeps expectrl's session until the child is reaped: dropping it
/// earlier would signal the child.
pub struct PtyChild {
    pub pid: i32,
    session: expectrl::session::OsSession,
}

/// Starts `cmd` on a fresh pty; returns the child and the pty's master.
/// The error is the child's exec error.
pub fn spawn_pty(cmd: Command) -> Result<(PtyChild, File), String> {
    let session = expectrl::Session::spawn(cmd).map_err(|e| e.to_string())?;
    let pid = session.get_process().pid().as_raw();
    let child = PtyChild { pid, session };
    match child.session.get_process().get_raw_handle() {
        Ok(pty) => Ok((child, pty)),
        Err(e) => {
            kill_group(pid);
            Err(e.to_string())
        }
    }
}

impl PtyChild {
    /// Lets the session go, once the child is reaped.
    pub fn close(self) {
        drop(self.session);
    }
}

/// Starts `cmd` with pipes, as the leader of a new session (so it has its
/// own process group to kill, and no terminal to prompt on).
pub fn spawn_piped(mut cmd: Command, stdin: bool) -> io::Result<std::process::Child> {
    cmd.stdin(if stdin { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    new_session(&mut cmd);
    cmd.spawn()
}

/// Makes the child the leader of a new session and process group.
pub fn new_session(cmd: &mut Command) {
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Reads every source until it closes, feeds stdin, and reaps the child;
/// all before `deadline`. On `TimedOut` the child is still running: the
/// caller kills it.
pub fn pump(
    pid: i32,
    sources: &mut [Source],
    mut stdin: Option<StdinFeed<'_>>,
    deadline: Instant,
    mut lines: Option<LineSink<'_>>,
) -> io::Result<Ended> {
    let mut exit = None;
    let mut stop = deadline;
    while sources.iter().any(|s| s.open) {
        let now = Instant::now();
        if now >= stop {
            break;
        }
        let ready = wait_ready(sources, stdin.as_ref(), stop.min(now + EXIT_CHECK) - now)?;
        for (source, _) in sources.iter_mut().zip(&ready.sources).filter(|(_, r)| **r) {
            read_once(source, &mut lines)?;
        }
        if let Some(feed) = stdin.as_mut()
            && ready.stdin
            && write_ready(feed)?
        {
            stdin = None;
        }
        if exit.is_none() {
            exit = try_reap(pid)?;
            if exit.is_some() {
                stop = (Instant::now() + DRAIN_GRACE).min(deadline);
            }
        }
    }
    flush_partial_lines(sources, &mut lines);
    if sources.iter().any(|s| s.open) && exit.is_some() {
        tracing::debug!(pid, "tool_output_left_open, a descendant still holds it");
    }
    match exit {
        Some(exit) => Ok(Ended::Exited(exit)),
        None => Ok(match wait_for_exit(pid, deadline)? {
            Some(exit) => Ended::Exited(exit),
            None => Ended::TimedOut,
        }),
    }
}

/// Which of the sources (index for index) and whether stdin are ready.
struct Ready {
    sources: Vec<bool>,
    stdin: bool,
}

/// poll(2) on the open sources, and on stdin while it has bytes to write,
/// for at most `timeout`.
fn wait_ready(
    sources: &[Source],
    stdin: Option<&StdinFeed<'_>>,
    timeout: Duration,
) -> io::Result<Ready> {
    let pollfd = |fd, events| libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // A closed source is polled as fd -1, which poll(2) ignores, so the
    // indices stay those of `sources`.
    let mut fds: Vec<libc::pollfd> = sources
        .iter()
        .map(|s| pollfd(if s.open { s.file.as_raw_fd() } else { -1 }, libc::POLLIN))
        .collect();
    if let Some(feed) = stdin {
        fds.push(pollfd(feed.file.as_raw_fd(), libc::POLLOUT));
    }
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
    // SAFETY: `fds` is a valid array of initialised pollfds of that length.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if ready < 0 {
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let is_ready = |fd: &libc::pollfd| fd.fd >= 0 && fd.revents != 0;
    Ok(Ready {
        sources: fds[..sources.len()].iter().map(is_ready).collect(),
        stdin: fds.get(sources.len()).is_some_and(is_ready),
    })
}

/// One read from a ready source; end of file (or EIO, which a pty master
/// reports once the last process holding the terminal is gone) closes it.
fn read_once(source: &mut Source, lines: &mut Option<LineSink<'_>>) -> io::Result<()> {
    let mut buf = zeroize::Zeroizing::new([0u8; 8192]);
    match (&source.file).read(&mut buf[..]) {
        Ok(0) => source.open = false,
        Ok(n) => {
            source.captured.extend(&buf[..n]);
            if let Some(sink) = lines.as_mut() {
                source.partial.extend(&buf[..n]);
                hand_on_lines(source, &mut **sink);
            }
        }
        Err(e) if e.raw_os_error() == Some(libc::EIO) => source.open = false,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
            ) => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Writes what the pipe takes; `true` once everything is written or the
/// child closed its end (it did not want it).
fn write_ready(feed: &mut StdinFeed<'_>) -> io::Result<bool> {
    while feed.written < feed.data.len() {
        match (&feed.file).write(&feed.data[feed.written..]) {
            Ok(n) => feed.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(true),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Hands every complete line in the source's partial buffer to `sink`.
fn hand_on_lines(source: &mut Source, sink: &mut dyn FnMut(Stream, &str)) {
    while let Some(end) = source.partial.as_slice().iter().position(|b| *b == b'\n') {
        emit_line(source.stream, &source.partial.as_slice()[..end], sink);
        source.partial.consume(end + 1);
    }
}

fn flush_partial_lines(sources: &mut [Source], lines: &mut Option<LineSink<'_>>) {
    let Some(sink) = lines.as_mut() else { return };
    for source in sources.iter_mut().filter(|s| !s.partial.is_empty()) {
        emit_line(source.stream, source.partial.as_slice(), &mut **sink);
        let len = source.partial.len();
        source.partial.consume(len);
    }
}

fn emit_line(stream: Stream, raw: &[u8], sink: &mut dyn FnMut(Stream, &str)) {
    let text = zeroize::Zeroizing::new(match stream {
        Stream::Terminal => clean_terminal_output(raw),
        Stream::Stdout | Stream::Stderr => String::from_utf8_lossy(raw).into_owned(),
    });
    sink(stream, text.trim_end_matches('\r'));
}

/// Reaps the child if it has exited.
pub fn try_reap(pid: i32) -> io::Result<Option<Exit>> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        let reaped = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if reaped == pid {
            return Ok(Some(exit_of(status)));
        }
        if reaped == 0 {
            return Ok(None);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

fn exit_of(status: libc::c_int) -> Exit {
    if libc::WIFEXITED(status) {
        Exit::Code(libc::WEXITSTATUS(status))
    } else {
        Exit::Signal(libc::WTERMSIG(status))
    }
}

/// Reaps the child; `None` when it is still running at the deadline.
pub fn wait_for_exit(pid: i32, deadline: Instant) -> io::Result<Option<Exit>> {
    loop {
        if let Some(exit) = try_reap(pid)? {
            return Ok(Some(exit));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(EXIT_POLL);
    }
}

/// Kills the child and everything in its process group (it leads its own
/// session), then reaps it, waiting at most [`KILL_GRACE`].
pub fn kill_group(pid: i32) {
    // SAFETY: signalling our own child and its process group; the child is
    // not reaped yet, so its pid (and group id) cannot have been reused.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
    }
    match wait_for_exit(pid, Instant::now() + KILL_GRACE) {
        Ok(Some(_)) => {}
        Ok(None) => tracing::warn!(pid, "tool_kill_failed, still not reaped after SIGKILL"),
        Err(e) => tracing::debug!(pid, error = %e, "tool_kill_failed"),
    }
}

fn set_nonblocking(file: &File) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with valid flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
