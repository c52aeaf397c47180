//! The runner against a real state file, with steps over a small world
//! whose effects the checks can see.

use super::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What the steps change and what the test watches.
#[derive(Default)]
struct World {
    effects: BTreeSet<&'static str>,
    checks: Vec<&'static str>,
    acts: Vec<&'static str>,
    /// Failures still to come, per step.
    failures: BTreeMap<&'static str, u32>,
    /// The error a failing act returns.
    failure: Option<fn() -> PmError>,
    /// The step whose next act "crashes" pm (panics) after its effect.
    crash_after_effect: Option<&'static str>,
}

/// A step whose effect is a name in the world: checked by looking, acted
/// by adding it (or failing, or crashing, as the world says).
fn effect(key: &'static str, retry: Retry) -> FnStep<'static, World> {
    step(
        key,
        format!("make {key}"),
        move |w: &mut World| {
            w.checks.push(key);
            Ok(if w.effects.contains(key) {
                Check::Done(serde_json::json!({"found": key}))
            } else {
                Check::needed(format!("{key} is missing"))
            })
        },
        move |w: &mut World| {
            w.acts.push(key);
            if let Some(left) = w.failures.get_mut(key).filter(|n| **n > 0) {
                *left -= 1;
                let failure = w.failure.unwrap_or(|| PmError::VaultServerUnreachable);
                return Err(failure().into());
            }
            w.effects.insert(key);
            if w.crash_after_effect == Some(key) {
                w.crash_after_effect = None;
                panic!("simulated crash of pm after {key} took effect");
            }
            Ok(serde_json::json!({"made": key}))
        },
    )
    .retry(retry)
}

fn no_wait() -> Retry {
    Retry {
        attempts: 3,
        first_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        retry_if: is_retryable,
    }
}

fn plan() -> Plan<'static, World> {
    Plan::new("test onboard")
        .step(effect("prereqs", no_wait()))
        .step(effect("network", no_wait()))
        .step(effect("ray", no_wait()))
}

fn open(path: &Path) -> State {
    State::open(path).unwrap()
}

/// A lock beside the state, as a caller of the runner would hold.
fn lock_for(state: &State) -> crate::lock::LockGuard {
    crate::lock::for_tests(state.path().parent().unwrap())
}

fn run(state: &mut State, world: &mut World, options: &Options) -> Result<PlanReport> {
    let held = lock_for(state);
    Runner::new(state, &held)
        .with_sleep(|_| {})
        .run(&plan(), "provider-1", world, options)
}

fn outcomes(report: &PlanReport) -> Vec<(&str, Outcome)> {
    report.steps.iter().map(|s| (s.key, s.outcome)).collect()
}

fn statuses(state: &State, session: i64) -> Vec<(String, StepStatus, u32)> {
    state
        .step_records(session)
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.status, r.attempts))
        .collect()
}

#[test]
fn a_step_whose_check_says_done_is_not_acted() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = open(&dir.path().join("state.db"));
    let mut world = World::default();
    world.effects.insert("network");

    let report = run(&mut state, &mut world, &Options::default()).unwrap();
    assert_eq!(
        outcomes(&report),
        [
            ("prereqs", Outcome::Acted),
            ("network", Outcome::AlreadyDone),
            ("ray", Outcome::Acted)
        ]
    );
    assert_eq!(world.acts, ["prereqs", "ray"], "network was never acted");
    assert!(report.changed);
    assert_eq!(report.status, Some(SessionStatus::Done));
    let session = report.session.unwrap();
    assert_eq!(
        statuses(&state, session),
        [
            ("prereqs".to_string(), StepStatus::Done, 1),
            ("network".to_string(), StepStatus::Skipped, 0),
            ("ray".to_string(), StepStatus::Done, 1),
        ]
    );

    // Everything is done now: a new run changes nothing.
    world.acts.clear();
    let again = run(&mut state, &mut world, &Options::default()).unwrap();
    assert!(!again.changed);
    assert!(world.acts.is_empty());
    assert_ne!(
        again.session,
        Some(session),
        "a done session is not resumed"
    );
}

#[test]
fn a_crash_between_started_and_done_is_checked_again_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut world = World {
        crash_after_effect: Some("network"),
        ..World::default()
    };
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut state = open(&path);
        run(&mut state, &mut world, &Options::default())
    }));
    assert!(crashed.is_err(), "the run died inside network's act");

    // What the crash left: network "started", ray never reached.
    let mut state = open(&path);
    let session = state
        .resumable_step_session("test onboard", "provider-1")
        .unwrap()
        .expect("the interrupted session");
    assert_eq!(session.status, SessionStatus::Open);
    assert_eq!(
        statuses(&state, session.id),
        [
            ("prereqs".to_string(), StepStatus::Done, 1),
            ("network".to_string(), StepStatus::Started, 1),
        ]
    );

    world.checks.clear();
    world.acts.clear();
    let report = run(&mut state, &mut world, &Options::default()).unwrap();
    assert_eq!((report.session, report.resumed), (Some(session.id), true));
    assert_eq!(
        outcomes(&report),
        [
            ("prereqs", Outcome::DoneEarlier),
            ("network", Outcome::AlreadyDone),
            ("ray", Outcome::Acted)
        ]
    );
    assert_eq!(
        world.checks,
        ["network", "ray"],
        "prereqs is not checked again"
    );
    assert_eq!(
        world.acts,
        ["ray"],
        "network finished before the crash: not acted again"
    );
    assert_eq!(report.status, Some(SessionStatus::Done));
    assert_eq!(
        statuses(&state, session.id)[1],
        ("network".to_string(), StepStatus::Done, 1)
    );
}

#[test]
fn a_crash_before_the_effect_acts_again_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    // A "started" row as a pm killed inside network's act leaves it, with
    // the effect not there.
    let mut state = open(&path);
    let held = lock_for(&state);
    let id = state
        .create_step_session(&held, "test onboard", "provider-1", 1)
        .unwrap();
    state.start_step(&held, id, "network", 1, 2).unwrap();
    drop(held);
    let mut world = World::default();
    let report = run(&mut state, &mut world, &Options::default()).unwrap();
    assert_eq!(report.session, Some(id));
    assert_eq!(world.acts, ["prereqs", "network", "ray"]);
    assert_eq!(
        statuses(&state, id)[1],
        ("network".to_string(), StepStatus::Done, 2),
        "the second act of network"
    );
}

#[test]
fn a_failing_step_is_retried_with_growing_jittered_delays() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = open(&dir.path().join("state.db"));
    let mut world = World::default();
    world.failures.insert("network", 2);
    let retry = Retry {
        attempts: 4,
        first_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        retry_if: is_retryable,
    };
    let plan = Plan::new("test onboard").step(effect("network", retry));
    let mut waits = Vec::new();
    let held = lock_for(&state);
    let report = Runner::new(&mut state, &held)
        .with_sleep(|d| waits.push(d))
        .run(&plan, "provider-1", &mut world, &Options::default())
        .unwrap();

    assert_eq!(world.acts, ["network"; 3]);
    assert_eq!(
        world.checks, ["network"; 3],
        "checked again before every try"
    );
    assert_eq!(waits.len(), 2, "{waits:?}");
    let ms = |d: &Duration| d.as_millis();
    assert!((50..=100).contains(&ms(&waits[0])), "{waits:?}");
    assert!((100..=200).contains(&ms(&waits[1])), "{waits:?}");
    assert_eq!(report.steps[0].outcome, Outcome::Acted);
    assert_eq!(report.steps[0].attempts, 3);
    let [record] = state
        .step_records(report.session.unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!((record.status, record.attempts), (StepStatus::Done, 3));
    assert!(
        record
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("could not reach its Bitwarden server")),
        "{record:?}"
    );
}

#[test]
fn a_step_out_of_tries_stops_the_run_and_the_next_run_resumes_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = open(&dir.path().join("state.db"));
    let mut world = World::default();
    world.failures.insert("network", 5);

    let err = run(&mut state, &mut world, &Options::default()).unwrap_err();
    let classified = crate::error::classify(&err);
    assert_eq!(
        classified.code, "vault_server_unreachable",
        "the step's own code"
    );
    assert!(
        classified
            .message
            .starts_with("step `network` failed after 3 attempt(s)"),
        "{}",
        classified.message
    );
    assert_eq!(world.acts, ["prereqs", "network", "network", "network"]);
    let session = state
        .latest_step_session("test onboard", "provider-1")
        .unwrap()
        .unwrap();
    assert_eq!(session.status, SessionStatus::Failed);
    assert_eq!(
        statuses(&state, session.id),
        [
            ("prereqs".to_string(), StepStatus::Done, 1),
            ("network".to_string(), StepStatus::Failed, 3),
        ],
        "ray was not reached"
    );

    world.failures.clear();
    world.acts.clear();
    let report = run(&mut state, &mut world, &Options::default()).unwrap();
    assert_eq!(report.session, Some(session.id));
    assert_eq!(world.acts, ["network", "ray"]);
}

#[test]
fn errors_a_person_must_fix_are_tried_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = open(&dir.path().join("state.db"));
    let mut world = World {
        failure: Some(|| PmError::VaultWrongPassword),
        ..World::default()
    };
    world.failures.insert("prereqs", 5);
    let err = run(&mut state, &mut world, &Options::default()).unwrap_err();
    assert_eq!(crate::error::classify(&err).code, "vault_wrong_password");
    assert_eq!(world.acts, ["prereqs"]);
}

#[test]
fn a_dry_run_reports_what_each_step_would_do_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = open(&dir.path().join("state.db"));
    let mut world = World::default();
    world.effects.insert("prereqs");
    let options = Options {
        dry_run: true,
        ..Options::default()
    };
    let report = run(&mut state, &mut world, &options).unwrap();
    assert_eq!(
        outcomes(&report),
        [
            ("prereqs", Outcome::AlreadyDone),
            ("network", Outcome::WouldAct),
            ("ray", Outcome::WouldAct)
        ]
    );
    assert_eq!(
        report.steps[1].reason.as_deref(),
        Some("network is missing")
    );
    assert!(report.changed && report.dry_run && report.session.is_none());
    assert!(world.acts.is_empty());
    assert!(
        state
            .latest_step_session("test onboard", "provider-1")
            .unwrap()
            .is_none(),
        "no session was written"
    );
}

#[test]
fn only_and_from_select_steps_and_an_unknown_step_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = open(&dir.path().join("state.db"));
    let mut world = World::default();
    let only = Options {
        selection: Selection::Only("network".to_string()),
        ..Options::default()
    };
    let report = run(&mut state, &mut world, &only).unwrap();
    assert_eq!(
        outcomes(&report),
        [
            ("prereqs", Outcome::NotSelected),
            ("network", Outcome::Acted),
            ("ray", Outcome::NotSelected)
        ]
    );
    assert_eq!(
        report.status,
        Some(SessionStatus::Open),
        "not all steps are done"
    );

    world.acts.clear();
    world.effects.clear();
    let from = Options {
        selection: Selection::From("network".to_string()),
        ..Options::default()
    };
    let report = run(&mut state, &mut world, &from).unwrap();
    assert_eq!(
        world.acts,
        ["network", "ray"],
        "network runs again: --from ignores records"
    );
    assert_eq!(
        report.status,
        Some(SessionStatus::Open),
        "prereqs never ran"
    );

    let unknown = Options {
        selection: Selection::From("nope".to_string()),
        ..Options::default()
    };
    let err = run(&mut state, &mut world, &unknown).unwrap_err();
    let classified = crate::error::classify(&err);
    assert_eq!(classified.code, "usage");
    assert!(
        classified
            .hint
            .is_some_and(|h| h.contains("prereqs, network, ray"))
    );
    assert!(Selection::from_flags(Some("a".into()), Some("b".into())).is_err());
}

#[test]
fn a_plan_naming_a_step_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = open(&dir.path().join("state.db"));
    let plan = Plan::new("twice")
        .step(effect("a", no_wait()))
        .step(effect("a", no_wait()));
    let held = lock_for(&state);
    let err = Runner::new(&mut state, &held)
        .run(&plan, "s", &mut World::default(), &Options::default())
        .unwrap_err();
    assert!(err.to_string().contains("names step `a` twice"), "{err}");
}
