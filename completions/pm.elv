
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
            cand pool 'The device-mapper thin pool that activations live on'
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
            cand fetch 'Download an image into the store: s3://BUCKET/KEY, http(s)://URL or a local path'
            cand list 'List the images in the store, newest first'
            cand show 'Show one image: id, digest, size, path, sources'
            cand rm 'Remove an image from the store (refused while something uses it)'
            cand gc 'Remove interrupted downloads older than a threshold and unreferenced blobs'
            cand validate 'Check an image as hostile input, in one streaming pass; list every violation'
            cand activate 'Make a validated image usable: a thin snapshot (or a directory copy) of its base volume'
            cand deactivate 'Remove an activation''s snapshot or copy'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;image;fetch'= {
            cand --sha256 'Expected digest (sha256:HEX or HEX); a mismatch discards the download'
            cand --max-size 'Refuse objects larger than this (e.g. 8GiB) [config: image.max_size]'
            cand --endpoint-url 'S3 endpoint of an S3-compatible store; path-style [config: image.endpoint_url, env: AWS_ENDPOINT_URL]'
            cand --part-size 'Size of each ranged GET [config: image.part_size]'
            cand --concurrency 'Parallel ranged GETs [config: image.concurrency]'
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
        &'pm;image;list'= {
            cand --source 'Only images fetched from a source containing this text'
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
        &'pm;image;show'= {
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
        &'pm;image;rm'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --force 'Remove it even if something still uses it'
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
        &'pm;image;gc'= {
            cand --older-than 'Age beyond which an interrupted download is removed [config: image.gc_partial_age]'
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
        &'pm;image;validate'= {
            cand --max-unpacked-size 'Most bytes of file data the image may unpack to [config: image.max_unpacked_size, default 8GiB]'
            cand --max-entries 'Most entries [config: image.max_entries, default 100000]'
            cand --max-path-length 'Most bytes in an entry name or link target [config: image.max_path_length, default 4096]'
            cand --max-component-length 'Most bytes in one path component [config: image.max_component_length, default 255]'
            cand --max-depth 'Most directory levels in an entry name [config: image.max_depth, default 256]'
            cand --max-symlink-hops 'Most symlinks followed resolving one link [config: image.max_symlink_hops, default 40]'
            cand --max-total-symlink-hops 'Most symlinks followed resolving all the links of the image [config: image.max_total_symlink_hops, default 1000000]'
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
        &'pm;image;activate'= {
            cand --name 'A name for the activation; activating the same name again changes nothing'
            cand --backend 'Where the activation lives [config: pool.backend, default auto: thin when device-mapper is present]'
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --validate 'Validate the image first if it has no safe verdict yet'
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
        &'pm;image;deactivate'= {
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
        &'pm;image;help'= {
            cand fetch 'Download an image into the store: s3://BUCKET/KEY, http(s)://URL or a local path'
            cand list 'List the images in the store, newest first'
            cand show 'Show one image: id, digest, size, path, sources'
            cand rm 'Remove an image from the store (refused while something uses it)'
            cand gc 'Remove interrupted downloads older than a threshold and unreferenced blobs'
            cand validate 'Check an image as hostile input, in one streaming pass; list every violation'
            cand activate 'Make a validated image usable: a thin snapshot (or a directory copy) of its base volume'
            cand deactivate 'Remove an activation''s snapshot or copy'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;image;help;fetch'= {
        }
        &'pm;image;help;list'= {
        }
        &'pm;image;help;show'= {
        }
        &'pm;image;help;rm'= {
        }
        &'pm;image;help;gc'= {
        }
        &'pm;image;help;validate'= {
        }
        &'pm;image;help;activate'= {
        }
        &'pm;image;help;deactivate'= {
        }
        &'pm;image;help;help'= {
        }
        &'pm;pool'= {
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
            cand create 'Create the thin pool on block devices, or on sparse files (--loop-dir)'
            cand status 'Data and metadata usage, thin devices, and mismatches between state and kernel'
            cand destroy 'Tear the pool down (refused while activations exist, unless --force)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;pool;create'= {
            cand --data 'Block device for the pool''s data'
            cand --metadata 'Block device for the pool''s metadata (its start is zeroed)'
            cand --loop-dir 'Folder for loop-backed sparse files (test hosts)'
            cand --data-size 'Size of the data file with --loop-dir'
            cand --metadata-size 'Size of the metadata file with --loop-dir'
            cand --block-size 'Data block size, a multiple of 64KiB [config: pool.block_size]'
            cand --low-water-mark 'Free data blocks below which the kernel signals [config: pool.low_water_mark]'
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
        &'pm;pool;status'= {
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
        &'pm;pool;destroy'= {
            cand --state 'The SQLite state file [env: PM_STATE]'
            cand --config 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]'
            cand --lock-timeout 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]'
            cand --log-format 'Format of the logs on stderr [env: PM_LOG_FORMAT]'
            cand --force 'Remove the activations and volumes on the pool too'
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
        &'pm;pool;help'= {
            cand create 'Create the thin pool on block devices, or on sparse files (--loop-dir)'
            cand status 'Data and metadata usage, thin devices, and mismatches between state and kernel'
            cand destroy 'Tear the pool down (refused while activations exist, unless --force)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;pool;help;create'= {
        }
        &'pm;pool;help;status'= {
        }
        &'pm;pool;help;destroy'= {
        }
        &'pm;pool;help;help'= {
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
            cand pool 'The device-mapper thin pool that activations live on'
            cand state 'Inspect and maintain the shared state file'
            cand config 'Show the effective configuration'
            cand completions 'Print a shell completion script'
            cand vault 'Read secrets from a Bitwarden vault through the bw CLI'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pm;help;image'= {
            cand fetch 'Download an image into the store: s3://BUCKET/KEY, http(s)://URL or a local path'
            cand list 'List the images in the store, newest first'
            cand show 'Show one image: id, digest, size, path, sources'
            cand rm 'Remove an image from the store (refused while something uses it)'
            cand gc 'Remove interrupted downloads older than a threshold and unreferenced blobs'
            cand validate 'Check an image as hostile input, in one streaming pass; list every violation'
            cand activate 'Make a validated image usable: a thin snapshot (or a directory copy) of its base volume'
            cand deactivate 'Remove an activation''s snapshot or copy'
        }
        &'pm;help;image;fetch'= {
        }
        &'pm;help;image;list'= {
        }
        &'pm;help;image;show'= {
        }
        &'pm;help;image;rm'= {
        }
        &'pm;help;image;gc'= {
        }
        &'pm;help;image;validate'= {
        }
        &'pm;help;image;activate'= {
        }
        &'pm;help;image;deactivate'= {
        }
        &'pm;help;pool'= {
            cand create 'Create the thin pool on block devices, or on sparse files (--loop-dir)'
            cand status 'Data and metadata usage, thin devices, and mismatches between state and kernel'
            cand destroy 'Tear the pool down (refused while activations exist, unless --force)'
        }
        &'pm;help;pool;create'= {
        }
        &'pm;help;pool;status'= {
        }
        &'pm;help;pool;destroy'= {
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
