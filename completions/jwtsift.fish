function __jwtsift_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __jwtsift_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __jwtsift_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __jwtsift_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __jwtsift_parse_tokens -S
    set -l unparsed_tokens (__jwtsift_tokens -pc)
    switch $unparsed_tokens[1]
    case 'jwtsift'
        __jwtsift_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'scan'
            __jwtsift_parse_subcommand -r 1 'no-verify' 'format=' 'db=' 'ok-sightings=' 'keep-subjects' 'rescan' 'lock-timeout=' 'since=' 'until=' 'fail-on=' 'timezone=' 'max-line=' 'stdin-name=' 'stdin-mtime=' 'no-messages' 'q/quiet' 'metrics-file=' 'config=' 'keys=+' 'retired-keys=+' 'hmac-secret-file=+' 'issuer=+' 'audience=+' 'leeway=' 'jwks-url=+' 'oidc-issuer=+' 'offline' 'cache-dir=' 'allow-http' 'fetch-timeout=' 'no-weak-secrets' 'jobs=' 'scan-threads=' 'version' 'h/help'
        case 'merge'
            __jwtsift_parse_subcommand -r 1 'db=' 'lock-timeout=' 'q/quiet' 'version' 'h/help'
        case 'inspect'
            __jwtsift_parse_subcommand -r 1 'config=' 'keys=+' 'retired-keys=+' 'hmac-secret-file=+' 'issuer=+' 'audience=+' 'leeway=' 'jwks-url=+' 'oidc-issuer=+' 'offline' 'cache-dir=' 'allow-http' 'fetch-timeout=' 'no-weak-secrets' 'at=' 'format=' 'version' 'h/help'
        case 'report'
            __jwtsift_parse_subcommand 0 'db=' 'format=' 'o/output=' 'since=' 'until=' 'issuer=' 'source=' 'section=' 'limit=' 'generated-at=' 'version' 'h/help'
        case 'keys'
            __jwtsift_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'fetch'
                __jwtsift_parse_subcommand 0 'config=' 'keys=+' 'retired-keys=+' 'hmac-secret-file=+' 'issuer=+' 'audience=+' 'leeway=' 'jwks-url=+' 'oidc-issuer=+' 'offline' 'cache-dir=' 'allow-http' 'fetch-timeout=' 'no-weak-secrets' 'version' 'h/help'
            case 'history'
                __jwtsift_parse_subcommand 0 'db=' 'version' 'h/help'
            end
        case 'help'
            __jwtsift_parse_subcommand -r 1 'version'
        end
    end
end

function __jwtsift_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __jwtsift_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __jwtsift_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __jwtsift_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__jwtsift_tokens -p)
    if test -z "$(__jwtsift_tokens -t)"
        set -l index (count (__jwtsift_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'jwtsift' -f
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift" version' -l 'version' -d 'Show the version.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_positional "jwtsift" -eq 1' -fa 'scan' -d 'Scan logs (files, directories, gzip archives, or - for stdin) for JWTs and JWT errors.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_positional "jwtsift" -eq 1' -fa 'merge' -d 'Merge findings databases written by separate scans (shards) into one.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_positional "jwtsift" -eq 1' -fa 'inspect' -d 'Decode, verify and judge single tokens: why does this one fail?'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_positional "jwtsift" -eq 1' -fa 'report' -d 'Explain the failures in a findings database: by cause, issuer, key ID, clock drift, source and time.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_positional "jwtsift" -eq 1' -fa 'keys' -d 'Show the keys a scan would use, and the key history a findings database recorded.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_positional "jwtsift" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" no-verify' -l 'no-verify' -d 'Only find tokens and errors; do not check signatures or claims.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" format' -l 'format' -d 'Print findings on stdout in this format instead of (or, with --db, besides) the database.' -rfka 'ndjson'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" db' -l 'db' -d 'The findings database (default ./jwtsift.sqlite unless --format is given).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" ok-sightings' -l 'ok-sightings' -d 'rows: a row per successful sighting; count: only counted in tokens.sightings (huge nightly runs).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" keep-subjects' -l 'keep-subjects' -d 'Store the sub claim in clear in tokens.sub (default: only its SHA-256).'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" rescan' -l 'rescan' -d 'Read every source again and replace its rows, even one already scanned under the same keys and policy (a changed key, secret, issuer, audience, leeway or --keep-subjects re-judges by itself).'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" lock-timeout' -l 'lock-timeout' -d 'Seconds to wait for another run writing to the same database (0 to 86400; default 30).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" since' -l 'since' -d 'Only lines whose own time is at or after this (RFC 3339 or Unix seconds).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" until' -l 'until' -d 'Only lines whose own time is before this.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" fail-on' -l 'fail-on' -d 'Exit with status 1 when a token sighting or an error message has one of these causes.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" timezone' -l 'timezone' -d 'Zone for log times that carry no offset: UTC, or an offset from -14:00 to +14:00 (+01:00, -0500).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" max-line' -l 'max-line' -d 'Lines longer than this many bytes are scanned in pieces (64 to 268435456; default 1048576); a token across a cut is kept whole.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" stdin-name' -l 'stdin-name' -d 'What findings call standard input instead of - (the original path of a file streamed in, as a Spark task does).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" stdin-mtime' -l 'stdin-mtime' -d 'The modification time of what standard input streams, for the year of syslog stamps without one (default: now).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" no-messages' -l 'no-messages' -d 'Leave redacted error messages out of the NDJSON output.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" q quiet' -l 'quiet' -s 'q' -d 'No progress line and no summary on standard error.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" metrics-file' -l 'metrics-file' -d 'Write the run\'s metrics here in the Prometheus text format, for node_exporter\'s textfile collector (replaced atomically, mode 0644, also when the run fails).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" config' -l 'config' -d 'Issuers, their key sources and policy, and global defaults (YAML; docs/config.md). Key flags add to it.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan"' -l 'keys' -d 'A JWKS, JWK, PEM public key, PEM RSA PUBLIC KEY, PEM certificate, or a directory of them (repeatable).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan"' -l 'retired-keys' -d 'Keys that were valid before a rotation, same formats (repeatable).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan"' -l 'hmac-secret-file' -d 'A file whose exact bytes are one HMAC secret (repeatable). Never printed.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan"' -l 'issuer' -d 'Accepted iss (repeatable); other issuers are issuer_rejected.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan"' -l 'audience' -d 'Accepted aud (repeatable); tokens with none of them are audience_rejected.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" leeway' -l 'leeway' -d 'Clock leeway for exp, nbf and iat, in seconds (0 to 31536000; default 60, or the config\'s).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan"' -l 'jwks-url' -d 'A JWKS to fetch for the global keys (repeatable; https://).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan"' -l 'oidc-issuer' -d 'An OpenID issuer whose discovery document names the JWKS to fetch for the global keys (repeatable).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" offline' -l 'offline' -d 'Use cached key sets only; fetch nothing.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" cache-dir' -l 'cache-dir' -d 'Where fetched key sets are cached (default $XDG_CACHE_HOME/jwtsift or ~/.cache/jwtsift).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" allow-http' -l 'allow-http' -d 'Allow plain http:// key sources beyond loopback.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" fetch-timeout' -l 'fetch-timeout' -d 'Seconds to wait for a key source (1 to 300; default 10).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" no-weak-secrets' -l 'no-weak-secrets' -d 'Do not try jwtsift\'s list of well-known weak HMAC secrets.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" jobs' -l 'jobs' -d 'Threads scanning and verifying, 1 to 1024 (default: the number of cores).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" scan-threads' -l 'scan-threads' -d 'Threads scanning one file\'s chunks, or the next small files whole, merged in order (output identical to one thread). Default: --jobs without --db; 1 with --db, where the database writer sets the pace (README, Benchmarks).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" version' -l 'version' -d 'Show the version.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift scan" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift merge" db' -l 'db' -d 'The database to merge into (created when missing).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift merge" lock-timeout' -l 'lock-timeout' -d 'Seconds to wait for a jwtsift run writing to --db (0 to 86400; default 30).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift merge" q quiet' -l 'quiet' -s 'q' -d 'Only errors on standard error.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift merge" version' -l 'version' -d 'Show the version.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift merge" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" config' -l 'config' -d 'Issuers, their key sources and policy, and global defaults (YAML; docs/config.md). Key flags add to it.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect"' -l 'keys' -d 'A JWKS, JWK, PEM public key, PEM RSA PUBLIC KEY, PEM certificate, or a directory of them (repeatable).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect"' -l 'retired-keys' -d 'Keys that were valid before a rotation, same formats (repeatable).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect"' -l 'hmac-secret-file' -d 'A file whose exact bytes are one HMAC secret (repeatable). Never printed.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect"' -l 'issuer' -d 'Accepted iss (repeatable); other issuers are issuer_rejected.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect"' -l 'audience' -d 'Accepted aud (repeatable); tokens with none of them are audience_rejected.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" leeway' -l 'leeway' -d 'Clock leeway for exp, nbf and iat, in seconds (0 to 31536000; default 60, or the config\'s).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect"' -l 'jwks-url' -d 'A JWKS to fetch for the global keys (repeatable; https://).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect"' -l 'oidc-issuer' -d 'An OpenID issuer whose discovery document names the JWKS to fetch for the global keys (repeatable).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" offline' -l 'offline' -d 'Use cached key sets only; fetch nothing.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" cache-dir' -l 'cache-dir' -d 'Where fetched key sets are cached (default $XDG_CACHE_HOME/jwtsift or ~/.cache/jwtsift).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" allow-http' -l 'allow-http' -d 'Allow plain http:// key sources beyond loopback.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" fetch-timeout' -l 'fetch-timeout' -d 'Seconds to wait for a key source (1 to 300; default 10).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" no-weak-secrets' -l 'no-weak-secrets' -d 'Do not try jwtsift\'s list of well-known weak HMAC secrets.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" at' -l 'at' -d 'The moment of judgement: RFC 3339 (2023-11-14T22:13:05Z), 2023-11-14 22:13:05 (UTC) or Unix seconds. Default: now.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" format' -l 'format' -d 'Output format: text, or json (one object per token, one per line).' -rfka 'text json'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" version' -l 'version' -d 'Show the version.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift inspect" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" db' -l 'db' -d 'The findings database.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" format' -l 'format' -d 'Output format.' -rfka 'text markdown json csv html'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" o output' -l 'output' -s 'o' -d 'Write here instead of stdout (a folder for csv without --section).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" since' -l 'since' -d 'Only sightings from this minute on (RFC 3339 or Unix seconds).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" until' -l 'until' -d 'Only sightings in minutes before this.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" issuer' -l 'issuer' -d 'Only tokens from this issuer (iss).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" source' -l 'source' -d 'Only sources whose path matches this glob.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" section' -l 'section' -d 'csv: the table to print (by_cause, by_issuer, timeline, …).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" limit' -l 'limit' -d 'Rows in top-N tables (1 to 10000; default 20).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" generated-at' -l 'generated-at' -d 'The time stamped on the report (default: now); a fixed one makes reports reproducible.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" version' -l 'version' -d 'Show the version.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift report" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys" version' -l 'version' -d 'Show the version.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_positional "jwtsift keys" -eq 1' -fa 'fetch' -d 'Fetch the key sets a scan would use and print its keys: issuer, kid, alg, thumbprint, source.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_positional "jwtsift keys" -eq 1' -fa 'history' -d 'List every key the runs recorded: issuer, kid, alg, thumbprint, source, when published.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch" config' -l 'config' -d 'Issuers, their key sources and policy, and global defaults (YAML; docs/config.md). Key flags add to it.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch"' -l 'keys' -d 'A JWKS, JWK, PEM public key, PEM RSA PUBLIC KEY, PEM certificate, or a directory of them (repeatable).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch"' -l 'retired-keys' -d 'Keys that were valid before a rotation, same formats (repeatable).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch"' -l 'hmac-secret-file' -d 'A file whose exact bytes are one HMAC secret (repeatable). Never printed.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch"' -l 'issuer' -d 'Accepted iss (repeatable); other issuers are issuer_rejected.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch"' -l 'audience' -d 'Accepted aud (repeatable); tokens with none of them are audience_rejected.' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch" leeway' -l 'leeway' -d 'Clock leeway for exp, nbf and iat, in seconds (0 to 31536000; default 60, or the config\'s).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch"' -l 'jwks-url' -d 'A JWKS to fetch for the global keys (repeatable; https://).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch"' -l 'oidc-issuer' -d 'An OpenID issuer whose discovery document names the JWKS to fetch for the global keys (repeatable).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch" offline' -l 'offline' -d 'Use cached key sets only; fetch nothing.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch" cache-dir' -l 'cache-dir' -d 'Where fetched key sets are cached (default $XDG_CACHE_HOME/jwtsift or ~/.cache/jwtsift).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch" allow-http' -l 'allow-http' -d 'Allow plain http:// key sources beyond loopback.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch" fetch-timeout' -l 'fetch-timeout' -d 'Seconds to wait for a key source (1 to 300; default 10).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch" no-weak-secrets' -l 'no-weak-secrets' -d 'Do not try jwtsift\'s list of well-known weak HMAC secrets.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch" version' -l 'version' -d 'Show the version.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys fetch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys history" db' -l 'db' -d 'The findings database (default ./jwtsift.sqlite).' -rfka ''
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys history" version' -l 'version' -d 'Show the version.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift keys history" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jwtsift' -n '__jwtsift_should_offer_completions_for_flags_or_options "jwtsift help" version' -l 'version' -d 'Show the version.'
