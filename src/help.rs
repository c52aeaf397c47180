//! What `--help` and the man pages say beyond the flags: an EXAMPLES
//! section for every command, kept in one table so that a new verb without
//! examples fails the `every_command_has_examples` test rather than
//! shipping without them.

/// Examples per command path: (what it does, the command line).
pub const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "pm",
        &[
            (
                "Fetch, validate and activate an image in one pipeline",
                "pm image fetch s3://images/web.tar.zst --json | pm image validate - --json | pm image activate - --name web-1 --json",
            ),
            (
                "Every effective setting and where it came from",
                "pm config show",
            ),
        ],
    ),
    (
        "pm image",
        &[
            (
                "Fetch an image and validate it",
                "pm image fetch s3://images/web.tar.zst --json | pm image validate - --json",
            ),
            ("What is stored", "pm image list"),
        ],
    ),
    (
        "pm image fetch",
        &[
            (
                "From S3 (standard AWS credential chain)",
                "pm image fetch s3://images/noble.tar.zst",
            ),
            (
                "From an S3-compatible store",
                "pm image fetch s3://images/noble.tar.zst --endpoint-url http://127.0.0.1:9000",
            ),
            (
                "From https, checked against a known digest",
                "pm image fetch https://images.example.com/root.tar.zst --sha256 \"$DIGEST\" --json | jq -r .path",
            ),
            ("A local file", "pm image fetch ./rootfs.tar.gz"),
        ],
    ),
    (
        "pm image validate",
        &[
            (
                "A local file: exit 0 safe, 3 rejected",
                "pm image validate ./rootfs.tar.zst",
            ),
            (
                "A stored image, listing every violation",
                "pm image validate 3f2a9c1b7d04 --json | jq -r '.error.violations[]? | \"\\(.rule) \\(.path)\"'",
            ),
            (
                "An image that is meant to hold device nodes",
                "pm image validate 3f2a9c1b7d04 --allow-devices",
            ),
        ],
    ),
    (
        "pm image activate",
        &[
            (
                "A thin snapshot (or a directory copy) named web-1",
                "pm image activate 3f2a9c1b7d04 --name web-1",
            ),
            (
                "Validate first if that was not done",
                "pm image activate 3f2a9c1b7d04 --name web-1 --validate",
            ),
            (
                "On the dir backend, printing the path",
                "pm image activate 3f2a9c1b7d04 --backend dir --json | jq -r .path",
            ),
        ],
    ),
    (
        "pm image deactivate",
        &[("Remove the activation web-1", "pm image deactivate web-1")],
    ),
    (
        "pm image list",
        &[
            ("Everything stored, newest first", "pm image list"),
            (
                "Images fetched from a bucket",
                "pm image list --source s3://images/ --json | jq -r '.images[].id'",
            ),
        ],
    ),
    (
        "pm image show",
        &[
            ("By short id", "pm image show 3f2a9c1b7d04"),
            (
                "The image a fetch just stored",
                "pm image fetch ./rootfs.tar.gz --json | pm image show -",
            ),
        ],
    ),
    (
        "pm image rm",
        &[
            ("Remove an unused image", "pm image rm 3f2a9c1b7d04"),
            (
                "Remove it although activations still use it",
                "pm image rm 3f2a9c1b7d04 --force",
            ),
        ],
    ),
    (
        "pm image gc",
        &[
            (
                "Free interrupted downloads older than the default (24h)",
                "pm image gc",
            ),
            ("Free them after two days", "pm image gc --older-than 2d"),
        ],
    ),
    (
        "pm pool",
        &[(
            "A test pool on sparse files, then its usage",
            "pm pool create --loop-dir /var/lib/pm/pool && pm pool status",
        )],
    ),
    (
        "pm pool create",
        &[
            (
                "On sparse files (test hosts)",
                "pm pool create --loop-dir /var/lib/pm/pool --data-size 20GiB",
            ),
            (
                "On block devices",
                "pm pool create --data /dev/vdb --metadata /dev/vdc",
            ),
        ],
    ),
    (
        "pm pool status",
        &[
            ("Usage as the kernel reports it", "pm pool status"),
            (
                "Data usage for monitoring",
                "pm pool status --json | jq .usage.data_percent",
            ),
        ],
    ),
    (
        "pm pool destroy",
        &[
            ("Tear down an unused pool", "pm pool destroy"),
            (
                "Tear it down with its activations",
                "pm pool destroy --force",
            ),
        ],
    ),
    (
        "pm state",
        &[("Where the state is and how large", "pm state show")],
    ),
    (
        "pm state show",
        &[(
            "Path, schema version, sizes and rows per table",
            "pm state show --json",
        )],
    ),
    (
        "pm state history",
        &[
            (
                "The last hour of state commands",
                "pm state history --command state --since 1h",
            ),
            (
                "Command names only",
                "pm state history --json | jq -r '.entries[].command'",
            ),
        ],
    ),
    (
        "pm state prune",
        &[
            (
                "Keep 90 days of history",
                "pm state prune --older-than 90days",
            ),
            (
                "From cron, quiet unless it fails",
                "17 3 * * * root pm -q state prune --older-than 90days",
            ),
        ],
    ),
    (
        "pm state backup",
        &[(
            "A dated copy, safe while pm runs",
            "pm state backup \"/var/backups/pm-$(date +%F).db\"",
        )],
    ),
    (
        "pm config",
        &[("Every effective setting", "pm config show")],
    ),
    (
        "pm config show",
        &[
            ("Every effective setting and its source", "pm config show"),
            ("Which file was read", "pm config show --json | jq -r .file"),
        ],
    ),
    (
        "pm completions",
        &[
            (
                "bash, for every user",
                "pm completions bash > /etc/bash_completion.d/pm",
            ),
            (
                "zsh, from a directory on $fpath",
                "pm completions zsh > ~/.zfunc/_pm",
            ),
            (
                "fish",
                "pm completions fish > ~/.config/fish/completions/pm.fish",
            ),
            ("Just this shell", "source <(pm completions bash)"),
        ],
    ),
    (
        "pm schema",
        &[
            (
                "What `pm image fetch --json` prints, as a JSON Schema",
                "pm schema image fetch",
            ),
            (
                "Every command path the contract covers",
                "pm schema --json | jq -r '.commands | keys[]'",
            ),
            (
                "The contract's version, to pin in a consumer",
                "pm schema --json | jq .schema_version",
            ),
            (
                "Check a document with any JSON Schema validator",
                "pm schema state prune --json > prune.schema.json && pm state prune --older-than 90d --json > out.json && check-jsonschema --schemafile prune.schema.json out.json",
            ),
        ],
    ),
    (
        "pm vault",
        &[(
            "Unlock once per boot, then read a secret",
            "pm vault unlock --password-file /etc/pm/bw-master && pm vault get db-prod",
        )],
    ),
    (
        "pm vault status",
        &[(
            "Logged in, locked or unlocked",
            "pm vault status --json | jq -r .status",
        )],
    ),
    (
        "pm vault unlock",
        &[
            (
                "Headless, from a file",
                "pm vault unlock --password-file /etc/pm/bw-master",
            ),
            (
                "From a variable",
                "BW_MASTER=... pm vault unlock --password-env BW_MASTER",
            ),
        ],
    ),
    (
        "pm vault lock",
        &[("Lock bw and drop the cached session", "pm vault lock")],
    ),
    (
        "pm vault get",
        &[
            (
                "A password for the shell",
                "TS_KEY=$(pm vault get tailscale-authkey)",
            ),
            (
                "Another field, as JSON",
                "pm vault get db-prod --field username --json | jq -r .value",
            ),
            (
                "After a rotation elsewhere",
                "pm vault get tailscale-authkey --sync",
            ),
        ],
    ),
    (
        "pm image activations",
        &[
            ("Every activation, on both backends", "pm image activations"),
            (
                "The devices or folders of one image's activations",
                "pm image activations --image 3f2a9c1b7d04 --json | jq -r '.activations[] | .device // .path'",
            ),
        ],
    ),
    (
        "pm net",
        &[
            (
                "Join the tailnet (the auth key from the vault)",
                "pm net up",
            ),
            (
                "Wait up to two minutes for the network",
                "pm net wait --timeout 120",
            ),
        ],
    ),
    (
        "pm net up",
        &[
            (
                "Join, or change nothing when already up",
                "pm net up --json | jq .changed",
            ),
            (
                "What a run would do (Ansible check mode)",
                "pm net up --dry-run",
            ),
        ],
    ),
    (
        "pm net status",
        &[
            ("The node, its IPs and tailscaled's health", "pm net status"),
            (
                "Only the first Tailscale IP",
                "pm net status --json | jq -r '.ips[0]'",
            ),
        ],
    ),
    (
        "pm net wait",
        &[(
            "Block until Running (exit 9 on timeout)",
            "pm net wait --timeout 60 && pm play site.yml",
        )],
    ),
    (
        "pm net down",
        &[("Disconnect (stays logged in)", "pm net down")],
    ),
    (
        "pm net leave",
        &[("Log the node out of the tailnet", "pm net leave")],
    ),
    (
        "pm play",
        &[
            ("Run a playbook once the network is up", "pm play site.yml"),
            (
                "Pass arguments to ansible-playbook",
                "pm play site.yml -- -i inventory.ini --limit web",
            ),
            (
                "The per-host recap as JSON",
                "pm play site.yml --json | jq .recap",
            ),
        ],
    ),
    (
        "pm provider",
        &[
            (
                "Register this host, then onboard it",
                "pm provider register && pm provider onboard",
            ),
            ("Where onboarding stands", "pm provider status"),
        ],
    ),
    (
        "pm provider register",
        &[(
            "Record this host as a provider",
            "pm provider register --json",
        )],
    ),
    (
        "pm provider onboard",
        &[
            ("Run (or resume) every step", "pm provider onboard"),
            ("Only the Ray join", "pm provider onboard --only ray-join"),
            ("What each step would do", "pm provider onboard --dry-run"),
        ],
    ),
    (
        "pm provider status",
        &[("Steps, attempts and the Ray node", "pm provider status")],
    ),
    (
        "pm provider leave",
        &[(
            "Stop this provider's Ray node (and only it)",
            "pm provider leave",
        )],
    ),
    (
        "pm inspect",
        &[
            ("Every fact about this host", "pm inspect"),
            (
                "As an Ansible local fact",
                "printf '#!/bin/sh\\nexec pm inspect --json\\n' > /etc/ansible/facts.d/pm.fact && chmod +x /etc/ansible/facts.d/pm.fact",
            ),
        ],
    ),
    (
        "pm doctor",
        &[
            ("Every check", "pm doctor"),
            ("Only the tool checks", "pm doctor --only tool"),
            (
                "For the Prometheus textfile collector, from cron",
                "pm -q doctor --textfile-dir /var/lib/node_exporter/textfile_collector",
            ),
        ],
    ),
    (
        "pm report",
        &[
            (
                "This host as one HTML page",
                "pm report --format html -o host.html",
            ),
            ("As Markdown on stdout", "pm report --format markdown"),
        ],
    ),
    (
        "pm report fleet",
        &[(
            "Many hosts' `pm inspect --json` as one table",
            "pm report fleet facts/*.json --format html -o fleet.html",
        )],
    ),
    (
        "pm logs",
        &[(
            "A support bundle, secrets redacted",
            "pm logs collect -o pm-support.tar.gz",
        )],
    ),
    (
        "pm logs collect",
        &[
            (
                "A support bundle, secrets redacted",
                "pm logs collect -o pm-support.tar.gz",
            ),
            (
                "With host names and IPs obfuscated",
                "pm logs collect --obfuscate -o pm-support.tar.gz",
            ),
        ],
    ),
];

/// The examples of one command path (`pm image fetch`).
pub fn examples(path: &str) -> &'static [(&'static str, &'static str)] {
    EXAMPLES
        .iter()
        .find(|(p, _)| *p == path)
        .map_or(&[], |(_, e)| e)
}

/// `Examples:` followed by each example, for `--help`.
fn examples_text(examples: &[(&str, &str)]) -> String {
    let mut text = String::from("Examples:");
    for (what, line) in examples {
        text.push_str(&format!("\n  # {what}\n  {line}"));
    }
    text
}

/// Adds each command's examples to the end of its `--help` (after any
/// text it already has there), through the whole tree.
pub fn with_examples(cmd: clap::Command) -> clap::Command {
    decorate(cmd, "pm")
}

fn decorate(mut cmd: clap::Command, path: &str) -> clap::Command {
    let examples = examples(path);
    if !examples.is_empty() {
        let text = match cmd.get_after_help() {
            Some(existing) => format!("{existing}\n\n{}", examples_text(examples)),
            None => examples_text(examples),
        };
        cmd = cmd.after_help(text);
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub_path = format!("{path} {name}");
        cmd = cmd.mut_subcommand(&name, |sub| decorate(sub, &sub_path));
    }
    cmd
}
