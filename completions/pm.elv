
use builtin;
use str;

set edit:completion:arg-completer[pm] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'pm'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'pm'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand image 'Fetch, validate and activate root-filesystem images'
            cand state 'Inspect and maintain the shared state file'
            cand config 'Show the effective configuration'
            cand completions 'Print a shell completion script'
            cand vault 'Read secrets from a Bitwarden vault through the bw CLI'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;image'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand validate 'Check an image as hostile input, in one streaming pass; list every violation'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;image;validate'= {
            cand --max-unpacked-size 'Most bytes of file data the image may unpack to [config: image.max_unpacked_size, default 8GiB]'
            cand --max-entries 'Most entries [config: image.max_entries, default 100000]'
            cand --max-path-length 'Most bytes in an entry name or link target [config: image.max_path_length, default 4096]'
            cand --max-component-length 'Most bytes in one path component [config: image.max_component_length, default 255]'
            cand --max-depth 'Most directory levels in an entry name [config: image.max_depth, default 256]'
            cand --max-symlink-hops 'Most symlinks followed resolving one link [config: image.max_symlink_hops, default 40]'
            cand --max-compression-ratio 'Most decompressed bytes per compressed byte, past the first MiB; 0 = off [config: image.max_compression_ratio, default 100]'
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --allow-devices 'Accept device nodes and FIFOs [config: image.allow_devices]'
            cand --allow-setuid 'Accept setuid and setgid files; they are still reported [config: image.allow_setuid]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;image;help'= {
            cand validate 'Check an image as hostile input, in one streaming pass; list every violation'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;image;help;validate'= {
        }
        &'pm;image;help;help'= {
        }
        &'pm;state'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Show the state file''s path, schema version, sizes and rows per table'
            cand history 'Show the history of mutating commands, newest first'
            cand prune 'Delete history entries older than a duration (takes the lock)'
            cand backup 'Write a consistent copy of the state file, safe while other commands run'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;state;show'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;state;history'= {
            cand --command 'Only this command and the ones below it (`image` matches `image fetch`)'
            cand --since 'Only entries at or after this time: a duration ago (`2h`, `7days`) or an RFC 3339 timestamp'
            cand --until 'Only entries at or before this time (same forms as --since)'
            cand --limit 'At most this many entries'
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;state;prune'= {
            cand --older-than 'Age beyond which entries are deleted: `30days`, `12h`, `90d`'
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;state;backup'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --force 'Replace FILE if it exists'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;state;help'= {
            cand show 'Show the state file''s path, schema version, sizes and rows per table'
            cand history 'Show the history of mutating commands, newest first'
            cand prune 'Delete history entries older than a duration (takes the lock)'
            cand backup 'Write a consistent copy of the state file, safe while other commands run'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;state;help;show'= {
        }
        &'pm;state;help;history'= {
        }
        &'pm;state;help;prune'= {
        }
        &'pm;state;help;backup'= {
        }
        &'pm;state;help;help'= {
        }
        &'pm;config'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Print every effective setting and its source (flag, env, file, default)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;config;show'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;config;help'= {
            cand show 'Print every effective setting and its source (flag, env, file, default)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;config;help;show'= {
        }
        &'pm;config;help;help'= {
        }
        &'pm;completions'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;vault'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand status 'Show whether bw is logged in, locked or unlocked, and whether pm''s cached session works'
            cand unlock 'Unlock the vault and cache the session for later pm commands (owner-only file)'
            cand lock 'Lock the vault and remove the cached session'
            cand get 'Print one field of the item with exactly this name or id (raw on stdout)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;vault;status'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;vault;unlock'= {
            cand --password-file 'Read the master password from the first line of this file [config: vault.password_file]'
            cand --password-env 'Read the master password from this environment variable [config: vault.password_env]'
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;vault;lock'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;vault;get'= {
            cand -f 'password, username, notes, uri, totp, or the name of a custom field'
            cand --field 'password, username, notes, uri, totp, or the name of a custom field'
            cand --password-file 'Read the master password from the first line of this file [config: vault.password_file]'
            cand --password-env 'Read the master password from this environment variable [config: vault.password_env]'
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --sync 'Pull the vault from the server first (`bw sync`), to see secrets rotated elsewhere'
            cand --json 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
            cand -q 'Less output on stderr: only errors'
            cand --quiet 'Less output on stderr: only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pm;vault;help'= {
            cand status 'Show whether bw is logged in, locked or unlocked, and whether pm''s cached session works'
            cand unlock 'Unlock the vault and cache the session for later pm commands (owner-only file)'
            cand lock 'Lock the vault and remove the cached session'
            cand get 'Print one field of the item with exactly this name or id (raw on stdout)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;vault;help;status'= {
        }
        &'pm;vault;help;unlock'= {
        }
        &'pm;vault;help;lock'= {
        }
        &'pm;vault;help;get'= {
        }
        &'pm;vault;help;help'= {
        }
        &'pm;help'= {
            cand image 'Fetch, validate and activate root-filesystem images'
            cand state 'Inspect and maintain the shared state file'
            cand config 'Show the effective configuration'
            cand completions 'Print a shell completion script'
            cand vault 'Read secrets from a Bitwarden vault through the bw CLI'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;help;image'= {
            cand validate 'Check an image as hostile input, in one streaming pass; list every violation'
        }
        &'pm;help;image;validate'= {
        }
        &'pm;help;state'= {
            cand show 'Show the state file''s path, schema version, sizes and rows per table'
            cand history 'Show the history of mutating commands, newest first'
            cand prune 'Delete history entries older than a duration (takes the lock)'
            cand backup 'Write a consistent copy of the state file, safe while other commands run'
        }
        &'pm;help;state;show'= {
        }
        &'pm;help;state;history'= {
        }
        &'pm;help;state;prune'= {
        }
        &'pm;help;state;backup'= {
        }
        &'pm;help;config'= {
            cand show 'Print every effective setting and its source (flag, env, file, default)'
        }
        &'pm;help;config;show'= {
        }
        &'pm;help;completions'= {
        }
        &'pm;help;vault'= {
            cand status 'Show whether bw is logged in, locked or unlocked, and whether pm''s cached session works'
            cand unlock 'Unlock the vault and cache the session for later pm commands (owner-only file)'
            cand lock 'Lock the vault and remove the cached session'
            cand get 'Print one field of the item with exactly this name or id (raw on stdout)'
        }
        &'pm;help;vault;status'= {
        }
        &'pm;help;vault;unlock'= {
        }
        &'pm;help;vault;lock'= {
        }
        &'pm;help;vault;get'= {
        }
        &'pm;help;help'= {
        }
    ]
    $completions[$command]
}
