# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pm_global_optspecs
    string join \n json state= config= lock-timeout= v/verbose q/quiet log-format= h/help V/version
end

function __fish_pm_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pm_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pm_using_subcommand
    set -l cmd (__fish_pm_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pm -n "__fish_pm_needs_command" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_needs_command" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_needs_command" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_needs_command" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_needs_command" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_needs_command" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_needs_command" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_needs_command" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_needs_command" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_needs_command" -f -a "image" -d 'Fetch, validate and activate root-filesystem images'
complete -c pm -n "__fish_pm_needs_command" -f -a "pool" -d 'The device-mapper thin pool that activations live on'
complete -c pm -n "__fish_pm_needs_command" -f -a "state" -d 'Inspect and maintain the shared state file'
complete -c pm -n "__fish_pm_needs_command" -f -a "config" -d 'Show the effective configuration'
complete -c pm -n "__fish_pm_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c pm -n "__fish_pm_needs_command" -f -a "vault" -d 'Read secrets from a Bitwarden vault through the bw CLI'
complete -c pm -n "__fish_pm_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -f -a "fetch" -d 'Download an image into the store: s3://BUCKET/KEY, http(s)://URL or a local path'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -f -a "list" -d 'List the images in the store, newest first'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -f -a "show" -d 'Show one image: id, digest, size, path, sources'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -f -a "rm" -d 'Remove an image from the store (refused while something uses it)'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -f -a "gc" -d 'Remove interrupted downloads older than a threshold and unreferenced blobs'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -f -a "validate" -d 'Check an image as hostile input, in one streaming pass; list every violation'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -f -a "activate" -d 'Make a validated image usable: a thin snapshot (or a directory copy) of its base volume'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -f -a "deactivate" -d 'Remove an activation\'s snapshot or copy'
complete -c pm -n "__fish_pm_using_subcommand image; and not __fish_seen_subcommand_from fetch list show rm gc validate activate deactivate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -l sha256 -d 'Expected digest (sha256:HEX or HEX); a mismatch discards the download' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -l max-size -d 'Refuse objects larger than this (e.g. 8GiB) [config: image.max_size]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -l endpoint-url -d 'S3 endpoint of an S3-compatible store; path-style [config: image.endpoint_url, env: AWS_ENDPOINT_URL]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -l part-size -d 'Size of each ranged GET [config: image.part_size]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -l concurrency -d 'Parallel ranged GETs [config: image.concurrency]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from fetch" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from list" -l source -d 'Only images fetched from a source containing this text' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from list" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from list" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from list" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from list" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from show" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from show" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from show" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from show" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from show" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from rm" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from rm" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from rm" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from rm" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from rm" -l force -d 'Remove it even if something still uses it'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from rm" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from gc" -l older-than -d 'Age beyond which an interrupted download is removed [config: image.gc_partial_age]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from gc" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from gc" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from gc" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from gc" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from gc" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from gc" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from gc" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from gc" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from gc" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l max-unpacked-size -d 'Most bytes of file data the image may unpack to [config: image.max_unpacked_size, default 8GiB]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l max-entries -d 'Most entries [config: image.max_entries, default 100000]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l max-path-length -d 'Most bytes in an entry name or link target [config: image.max_path_length, default 4096]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l max-component-length -d 'Most bytes in one path component [config: image.max_component_length, default 255]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l max-depth -d 'Most directory levels in an entry name [config: image.max_depth, default 256]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l max-symlink-hops -d 'Most symlinks followed resolving one link [config: image.max_symlink_hops, default 40]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l max-total-symlink-hops -d 'Most symlinks followed resolving all the links of the image [config: image.max_total_symlink_hops, default 1000000]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l max-compression-ratio -d 'Most decompressed bytes per compressed byte, past the first MiB; 0 = off [config: image.max_compression_ratio, default 100]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l allow-devices -d 'Accept device nodes and FIFOs [config: image.allow_devices]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l allow-setuid -d 'Accept setuid and setgid files; they are still reported [config: image.allow_setuid]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from validate" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -l name -d 'A name for the activation; activating the same name again changes nothing' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -l backend -d 'Where the activation lives [config: pool.backend, default auto: thin when device-mapper is present]' -r -f -a "auto\t''
thin\t''
dir\t''"
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -l validate -d 'Validate the image first if it has no safe verdict yet'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from activate" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from deactivate" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from deactivate" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from deactivate" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from deactivate" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from deactivate" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from deactivate" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from deactivate" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from deactivate" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from deactivate" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "fetch" -d 'Download an image into the store: s3://BUCKET/KEY, http(s)://URL or a local path'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the images in the store, newest first'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one image: id, digest, size, path, sources'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove an image from the store (refused while something uses it)'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "gc" -d 'Remove interrupted downloads older than a threshold and unreferenced blobs'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Check an image as hostile input, in one streaming pass; list every violation'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "activate" -d 'Make a validated image usable: a thin snapshot (or a directory copy) of its base volume'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "deactivate" -d 'Remove an activation\'s snapshot or copy'
complete -c pm -n "__fish_pm_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -f -a "create" -d 'Create the thin pool on block devices, or on sparse files (--loop-dir)'
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -f -a "status" -d 'Data and metadata usage, thin devices, and mismatches between state and kernel'
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -f -a "destroy" -d 'Tear the pool down (refused while activations exist, unless --force)'
complete -c pm -n "__fish_pm_using_subcommand pool; and not __fish_seen_subcommand_from create status destroy help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l data -d 'Block device for the pool\'s data' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l metadata -d 'Block device for the pool\'s metadata (its start is zeroed)' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l loop-dir -d 'Folder for loop-backed sparse files (test hosts)' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l data-size -d 'Size of the data file with --loop-dir' -r
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l metadata-size -d 'Size of the metadata file with --loop-dir' -r
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l block-size -d 'Data block size, a multiple of 64KiB [config: pool.block_size]' -r
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l low-water-mark -d 'Free data blocks below which the kernel signals [config: pool.low_water_mark]' -r
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from status" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from status" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from status" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from status" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from status" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from destroy" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from destroy" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from destroy" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from destroy" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from destroy" -l force -d 'Remove the activations and volumes on the pool too'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from destroy" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from destroy" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from destroy" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from destroy" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from destroy" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create the thin pool on block devices, or on sparse files (--loop-dir)'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from help" -f -a "status" -d 'Data and metadata usage, thin devices, and mismatches between state and kernel'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from help" -f -a "destroy" -d 'Tear the pool down (refused while activations exist, unless --force)'
complete -c pm -n "__fish_pm_using_subcommand pool; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -f -a "show" -d 'Show the state file\'s path, schema version, sizes and rows per table'
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -f -a "history" -d 'Show the history of mutating commands, newest first'
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -f -a "prune" -d 'Delete history entries older than a duration (takes the lock)'
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -f -a "backup" -d 'Write a consistent copy of the state file, safe while other commands run'
complete -c pm -n "__fish_pm_using_subcommand state; and not __fish_seen_subcommand_from show history prune backup help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from show" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from show" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from show" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from show" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from show" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -l command -d 'Only this command and the ones below it (`image` matches `image fetch`)' -r
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -l since -d 'Only entries at or after this time: a duration ago (`2h`, `7days`) or an RFC 3339 timestamp' -r
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -l until -d 'Only entries at or before this time (same forms as --since)' -r
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -l limit -d 'At most this many entries' -r
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from prune" -l older-than -d 'Age beyond which entries are deleted: `30days`, `12h`, `90d`' -r
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from prune" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from prune" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from prune" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from prune" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from prune" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from backup" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from backup" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from backup" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from backup" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from backup" -l force -d 'Replace FILE if it exists'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from backup" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from backup" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from backup" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from backup" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from backup" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the state file\'s path, schema version, sizes and rows per table'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "history" -d 'Show the history of mutating commands, newest first'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Delete history entries older than a duration (takes the lock)'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "backup" -d 'Write a consistent copy of the state file, safe while other commands run'
complete -c pm -n "__fish_pm_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Print every effective setting and its source (flag, env, file, default)'
complete -c pm -n "__fish_pm_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from show" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from show" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from show" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print every effective setting and its source (flag, env, file, default)'
complete -c pm -n "__fish_pm_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand completions" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand completions" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand completions" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand completions" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand completions" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand completions" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand completions" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand completions" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand completions" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -f -a "status" -d 'Show whether bw is logged in, locked or unlocked, and whether pm\'s cached session works'
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -f -a "unlock" -d 'Unlock the vault and cache the session for later pm commands (owner-only file)'
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -f -a "lock" -d 'Lock the vault and remove the cached session'
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -f -a "get" -d 'Print one field of the item with exactly this name or id (raw on stdout)'
complete -c pm -n "__fish_pm_using_subcommand vault; and not __fish_seen_subcommand_from status unlock lock get help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from status" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from status" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from status" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from status" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from status" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -l password-file -d 'Read the master password from the first line of this file [config: vault.password_file]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -l password-env -d 'Read the master password from this environment variable [config: vault.password_env]' -r
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from unlock" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from lock" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from lock" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from lock" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from lock" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from lock" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from lock" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from lock" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from lock" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from lock" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -s f -l field -d 'password, username, notes, uri, totp, or the name of a custom field' -r
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -l password-file -d 'Read the master password from the first line of this file [config: vault.password_file]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -l password-env -d 'Read the master password from this environment variable [config: vault.password_env]' -r
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -l state -d 'The SQLite state file [env: PM_STATE]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -l config -d 'The TOML config file [env: PM_CONFIG] [default: /etc/pm/config.toml, then $XDG_CONFIG_HOME/pm/config.toml]' -r -F
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -l lock-timeout -d 'Seconds a mutating command waits for the state lock; 0 fails at once [env: PM_LOCK_TIMEOUT]' -r
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -l log-format -d 'Format of the logs on stderr [env: PM_LOG_FORMAT]' -r -f -a "text\t''
json\t''"
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -l sync -d 'Pull the vault from the server first (`bw sync`), to see secrets rotated elsewhere'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -l json -d 'Print exactly one JSON document on stdout, on success and on failure [env: PM_JSON]'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace) [env: PM_VERBOSITY]'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Less output on stderr: only errors'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show whether bw is logged in, locked or unlocked, and whether pm\'s cached session works'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "unlock" -d 'Unlock the vault and cache the session for later pm commands (owner-only file)'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "lock" -d 'Lock the vault and remove the cached session'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print one field of the item with exactly this name or id (raw on stdout)'
complete -c pm -n "__fish_pm_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand help; and not __fish_seen_subcommand_from image pool state config completions vault help" -f -a "image" -d 'Fetch, validate and activate root-filesystem images'
complete -c pm -n "__fish_pm_using_subcommand help; and not __fish_seen_subcommand_from image pool state config completions vault help" -f -a "pool" -d 'The device-mapper thin pool that activations live on'
complete -c pm -n "__fish_pm_using_subcommand help; and not __fish_seen_subcommand_from image pool state config completions vault help" -f -a "state" -d 'Inspect and maintain the shared state file'
complete -c pm -n "__fish_pm_using_subcommand help; and not __fish_seen_subcommand_from image pool state config completions vault help" -f -a "config" -d 'Show the effective configuration'
complete -c pm -n "__fish_pm_using_subcommand help; and not __fish_seen_subcommand_from image pool state config completions vault help" -f -a "completions" -d 'Print a shell completion script'
complete -c pm -n "__fish_pm_using_subcommand help; and not __fish_seen_subcommand_from image pool state config completions vault help" -f -a "vault" -d 'Read secrets from a Bitwarden vault through the bw CLI'
complete -c pm -n "__fish_pm_using_subcommand help; and not __fish_seen_subcommand_from image pool state config completions vault help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "fetch" -d 'Download an image into the store: s3://BUCKET/KEY, http(s)://URL or a local path'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "list" -d 'List the images in the store, newest first'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "show" -d 'Show one image: id, digest, size, path, sources'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "rm" -d 'Remove an image from the store (refused while something uses it)'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "gc" -d 'Remove interrupted downloads older than a threshold and unreferenced blobs'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "validate" -d 'Check an image as hostile input, in one streaming pass; list every violation'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "activate" -d 'Make a validated image usable: a thin snapshot (or a directory copy) of its base volume'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "deactivate" -d 'Remove an activation\'s snapshot or copy'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from pool" -f -a "create" -d 'Create the thin pool on block devices, or on sparse files (--loop-dir)'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from pool" -f -a "status" -d 'Data and metadata usage, thin devices, and mismatches between state and kernel'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from pool" -f -a "destroy" -d 'Tear the pool down (refused while activations exist, unless --force)'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "show" -d 'Show the state file\'s path, schema version, sizes and rows per table'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "history" -d 'Show the history of mutating commands, newest first'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "prune" -d 'Delete history entries older than a duration (takes the lock)'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "backup" -d 'Write a consistent copy of the state file, safe while other commands run'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print every effective setting and its source (flag, env, file, default)'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "status" -d 'Show whether bw is logged in, locked or unlocked, and whether pm\'s cached session works'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "unlock" -d 'Unlock the vault and cache the session for later pm commands (owner-only file)'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "lock" -d 'Lock the vault and remove the cached session'
complete -c pm -n "__fish_pm_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "get" -d 'Print one field of the item with exactly this name or id (raw on stdout)'
