
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'pm' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'pm'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'pm' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('image', 'image', [CompletionResultType]::ParameterValue, 'Fetch, validate and activate root-filesystem images')
            [CompletionResult]::new('pool', 'pool', [CompletionResultType]::ParameterValue, 'The device-mapper thin pool that activations live on')
            [CompletionResult]::new('state', 'state', [CompletionResultType]::ParameterValue, 'Inspect and maintain the shared state file')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the effective configuration')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('vault', 'vault', [CompletionResultType]::ParameterValue, 'Read secrets from a Bitwarden vault through the bw CLI')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;image' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Download an image into the store: s3://BUCKET/KEY, http(s)://URL or a local path')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the images in the store, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one image: id, digest, size, path, sources')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove an image from the store (refused while something uses it)')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove interrupted downloads older than a threshold and unreferenced blobs')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check an image as hostile input, in one streaming pass; list every violation')
            [CompletionResult]::new('activate', 'activate', [CompletionResultType]::ParameterValue, 'Make a validated image usable: a thin snapshot (or a directory copy) of its base volume')
            [CompletionResult]::new('deactivate', 'deactivate', [CompletionResultType]::ParameterValue, 'Remove an activation''s snapshot or copy')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;image;fetch' {
            [CompletionResult]::new('--sha256', '--sha256', [CompletionResultType]::ParameterName, 'Expected digest (sha256:HEX or HEX); a mismatch discards the download')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Refuse objects larger than this (e.g. 8GiB) [config: image.max_size]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'S3 endpoint of an S3-compatible store; path-style [config: image.endpoint_url, env: AWS_ENDPOINT_URL]')
            [CompletionResult]::new('--part-size', '--part-size', [CompletionResultType]::ParameterName, 'Size of each ranged GET [config: image.part_size]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Parallel ranged GETs [config: image.concurrency]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;image;list' {
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Only images fetched from a source containing this text')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;image;show' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;image;rm' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Remove it even if something still uses it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;image;gc' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Age beyond which an interrupted download is removed [config: image.gc_partial_age]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;image;validate' {
            [CompletionResult]::new('--max-unpacked-size', '--max-unpacked-size', [CompletionResultType]::ParameterName, 'Most bytes of file data the image may unpack to [config: image.max_unpacked_size, default 8GiB]')
            [CompletionResult]::new('--max-entries', '--max-entries', [CompletionResultType]::ParameterName, 'Most entries [config: image.max_entries, default 100000]')
            [CompletionResult]::new('--max-path-length', '--max-path-length', [CompletionResultType]::ParameterName, 'Most bytes in an entry name or link target [config: image.max_path_length, default 4096]')
            [CompletionResult]::new('--max-component-length', '--max-component-length', [CompletionResultType]::ParameterName, 'Most bytes in one path component [config: image.max_component_length, default 255]')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'Most directory levels in an entry name [config: image.max_depth, default 256]')
            [CompletionResult]::new('--max-symlink-hops', '--max-symlink-hops', [CompletionResultType]::ParameterName, 'Most symlinks followed resolving one link [config: image.max_symlink_hops, default 40]')
            [CompletionResult]::new('--max-total-symlink-hops', '--max-total-symlink-hops', [CompletionResultType]::ParameterName, 'Most symlinks followed resolving all the links of the image [config: image.max_total_symlink_hops, default 1000000]')
            [CompletionResult]::new('--max-compression-ratio', '--max-compression-ratio', [CompletionResultType]::ParameterName, 'Most decompressed bytes per compressed byte, past the first MiB; 0 = off [config: image.max_compression_ratio, default 100]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--allow-devices', '--allow-devices', [CompletionResultType]::ParameterName, 'Accept device nodes and FIFOs [config: image.allow_devices]')
            [CompletionResult]::new('--allow-setuid', '--allow-setuid', [CompletionResultType]::ParameterName, 'Accept setuid and setgid files; they are still reported [config: image.allow_setuid]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;image;activate' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'A name for the activation; activating the same name again changes nothing')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where the activation lives [config: pool.backend, default auto: thin when device-mapper is present]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--validate', '--validate', [CompletionResultType]::ParameterName, 'Validate the image first if it has no safe verdict yet')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;image;deactivate' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;image;help' {
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Download an image into the store: s3://BUCKET/KEY, http(s)://URL or a local path')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the images in the store, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one image: id, digest, size, path, sources')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove an image from the store (refused while something uses it)')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove interrupted downloads older than a threshold and unreferenced blobs')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check an image as hostile input, in one streaming pass; list every violation')
            [CompletionResult]::new('activate', 'activate', [CompletionResultType]::ParameterValue, 'Make a validated image usable: a thin snapshot (or a directory copy) of its base volume')
            [CompletionResult]::new('deactivate', 'deactivate', [CompletionResultType]::ParameterValue, 'Remove an activation''s snapshot or copy')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;image;help;fetch' {
            break
        }
        'pm;image;help;list' {
            break
        }
        'pm;image;help;show' {
            break
        }
        'pm;image;help;rm' {
            break
        }
        'pm;image;help;gc' {
            break
        }
        'pm;image;help;validate' {
            break
        }
        'pm;image;help;activate' {
            break
        }
        'pm;image;help;deactivate' {
            break
        }
        'pm;image;help;help' {
            break
        }
        'pm;pool' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create the thin pool on block devices, or on sparse files (--loop-dir)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Data and metadata usage, thin devices, and mismatches between state and kernel')
            [CompletionResult]::new('destroy', 'destroy', [CompletionResultType]::ParameterValue, 'Tear the pool down (refused while activations exist, unless --force)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;pool;create' {
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'Block device for the pool''s data')
            [CompletionResult]::new('--metadata', '--metadata', [CompletionResultType]::ParameterName, 'Block device for the pool''s metadata (its start is zeroed)')
            [CompletionResult]::new('--loop-dir', '--loop-dir', [CompletionResultType]::ParameterName, 'Folder for loop-backed sparse files (test hosts)')
            [CompletionResult]::new('--data-size', '--data-size', [CompletionResultType]::ParameterName, 'Size of the data file with --loop-dir')
            [CompletionResult]::new('--metadata-size', '--metadata-size', [CompletionResultType]::ParameterName, 'Size of the metadata file with --loop-dir')
            [CompletionResult]::new('--block-size', '--block-size', [CompletionResultType]::ParameterName, 'Data block size, a multiple of 64KiB [config: pool.block_size]')
            [CompletionResult]::new('--low-water-mark', '--low-water-mark', [CompletionResultType]::ParameterName, 'Free data blocks below which the kernel signals [config: pool.low_water_mark]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;pool;status' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;pool;destroy' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Remove the activations and volumes on the pool too')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;pool;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create the thin pool on block devices, or on sparse files (--loop-dir)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Data and metadata usage, thin devices, and mismatches between state and kernel')
            [CompletionResult]::new('destroy', 'destroy', [CompletionResultType]::ParameterValue, 'Tear the pool down (refused while activations exist, unless --force)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;pool;help;create' {
            break
        }
        'pm;pool;help;status' {
            break
        }
        'pm;pool;help;destroy' {
            break
        }
        'pm;pool;help;help' {
            break
        }
        'pm;state' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the state file''s path, schema version, sizes and rows per table')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the history of mutating commands, newest first')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete history entries older than a duration (takes the lock)')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write a consistent copy of the state file, safe while other commands run')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;state;show' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;state;history' {
            [CompletionResult]::new('--command', '--command', [CompletionResultType]::ParameterName, 'Only this command and the ones below it (`image` matches `image fetch`)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only entries at or after this time: a duration ago (`2h`, `7days`) or an RFC 3339 timestamp')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only entries at or before this time (same forms as --since)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many entries')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;state;prune' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Age beyond which entries are deleted: `30days`, `12h`, `90d`')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;state;backup' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace FILE if it exists')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;state;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the state file''s path, schema version, sizes and rows per table')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the history of mutating commands, newest first')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete history entries older than a duration (takes the lock)')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write a consistent copy of the state file, safe while other commands run')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;state;help;show' {
            break
        }
        'pm;state;help;history' {
            break
        }
        'pm;state;help;prune' {
            break
        }
        'pm;state;help;backup' {
            break
        }
        'pm;state;help;help' {
            break
        }
        'pm;config' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print every effective setting and its source (flag, env, file, default)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;config;show' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;config;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print every effective setting and its source (flag, env, file, default)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;config;help;show' {
            break
        }
        'pm;config;help;help' {
            break
        }
        'pm;completions' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;vault' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether bw is logged in, locked or unlocked, and whether pm''s cached session works')
            [CompletionResult]::new('unlock', 'unlock', [CompletionResultType]::ParameterValue, 'Unlock the vault and cache the session for later pm commands (owner-only file)')
            [CompletionResult]::new('lock', 'lock', [CompletionResultType]::ParameterValue, 'Lock the vault and remove the cached session')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print one field of the item with exactly this name or id (raw on stdout)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;vault;status' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;vault;unlock' {
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the master password from the first line of this file [config: vault.password_file]')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Read the master password from this environment variable [config: vault.password_env]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;vault;lock' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;vault;get' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'password, username, notes, uri, totp, or the name of a custom field')
            [CompletionResult]::new('--field', '--field', [CompletionResultType]::ParameterName, 'password, username, notes, uri, totp, or the name of a custom field')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the master password from the first line of this file [config: vault.password_file]')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Read the master password from this environment variable [config: vault.password_env]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'The SQLite state file [env: PM_STATE]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the logs on stderr [env: PM_LOG_FORMAT]')
            [CompletionResult]::new('--sync', '--sync', [CompletionResultType]::ParameterName, 'Pull the vault from the server first (`bw sync`), to see secrets rotated elsewhere')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pm;vault;help' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether bw is logged in, locked or unlocked, and whether pm''s cached session works')
            [CompletionResult]::new('unlock', 'unlock', [CompletionResultType]::ParameterValue, 'Unlock the vault and cache the session for later pm commands (owner-only file)')
            [CompletionResult]::new('lock', 'lock', [CompletionResultType]::ParameterValue, 'Lock the vault and remove the cached session')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print one field of the item with exactly this name or id (raw on stdout)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;vault;help;status' {
            break
        }
        'pm;vault;help;unlock' {
            break
        }
        'pm;vault;help;lock' {
            break
        }
        'pm;vault;help;get' {
            break
        }
        'pm;vault;help;help' {
            break
        }
        'pm;help' {
            [CompletionResult]::new('image', 'image', [CompletionResultType]::ParameterValue, 'Fetch, validate and activate root-filesystem images')
            [CompletionResult]::new('pool', 'pool', [CompletionResultType]::ParameterValue, 'The device-mapper thin pool that activations live on')
            [CompletionResult]::new('state', 'state', [CompletionResultType]::ParameterValue, 'Inspect and maintain the shared state file')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the effective configuration')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('vault', 'vault', [CompletionResultType]::ParameterValue, 'Read secrets from a Bitwarden vault through the bw CLI')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pm;help;image' {
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Download an image into the store: s3://BUCKET/KEY, http(s)://URL or a local path')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the images in the store, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one image: id, digest, size, path, sources')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove an image from the store (refused while something uses it)')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove interrupted downloads older than a threshold and unreferenced blobs')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check an image as hostile input, in one streaming pass; list every violation')
            [CompletionResult]::new('activate', 'activate', [CompletionResultType]::ParameterValue, 'Make a validated image usable: a thin snapshot (or a directory copy) of its base volume')
            [CompletionResult]::new('deactivate', 'deactivate', [CompletionResultType]::ParameterValue, 'Remove an activation''s snapshot or copy')
            break
        }
        'pm;help;image;fetch' {
            break
        }
        'pm;help;image;list' {
            break
        }
        'pm;help;image;show' {
            break
        }
        'pm;help;image;rm' {
            break
        }
        'pm;help;image;gc' {
            break
        }
        'pm;help;image;validate' {
            break
        }
        'pm;help;image;activate' {
            break
        }
        'pm;help;image;deactivate' {
            break
        }
        'pm;help;pool' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create the thin pool on block devices, or on sparse files (--loop-dir)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Data and metadata usage, thin devices, and mismatches between state and kernel')
            [CompletionResult]::new('destroy', 'destroy', [CompletionResultType]::ParameterValue, 'Tear the pool down (refused while activations exist, unless --force)')
            break
        }
        'pm;help;pool;create' {
            break
        }
        'pm;help;pool;status' {
            break
        }
        'pm;help;pool;destroy' {
            break
        }
        'pm;help;state' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the state file''s path, schema version, sizes and rows per table')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the history of mutating commands, newest first')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete history entries older than a duration (takes the lock)')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write a consistent copy of the state file, safe while other commands run')
            break
        }
        'pm;help;state;show' {
            break
        }
        'pm;help;state;history' {
            break
        }
        'pm;help;state;prune' {
            break
        }
        'pm;help;state;backup' {
            break
        }
        'pm;help;config' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print every effective setting and its source (flag, env, file, default)')
            break
        }
        'pm;help;config;show' {
            break
        }
        'pm;help;completions' {
            break
        }
        'pm;help;vault' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether bw is logged in, locked or unlocked, and whether pm''s cached session works')
            [CompletionResult]::new('unlock', 'unlock', [CompletionResultType]::ParameterValue, 'Unlock the vault and cache the session for later pm commands (owner-only file)')
            [CompletionResult]::new('lock', 'lock', [CompletionResultType]::ParameterValue, 'Lock the vault and remove the cached session')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print one field of the item with exactly this name or id (raw on stdout)')
            break
        }
        'pm;help;vault;status' {
            break
        }
        'pm;help;vault;unlock' {
            break
        }
        'pm;help;vault;lock' {
            break
        }
        'pm;help;vault;get' {
            break
        }
        'pm;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
