#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Sources the bash completion for ipvsctl and checks what it offers.
#   completion.sh SOURCE_DIR BUILD_DIR
# Run twice: with bash-completion's helpers (as on an installed system) when
# that package is present, and without them.
set -uo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
export PATH="$build/bin:$PATH"  # subcommands are read from `ipvsctl --help`

run_checks() {
    failed=0
    # shellcheck source=/dev/null
    . "$src/packaging/bash-completion/ipvsctl"

    # complete_line LINE: fills COMPREPLY as bash would at the end of LINE;
    # a trailing space in LINE starts a new, empty word.
    complete_line() {
        local line=$1
        read -r -a COMP_WORDS <<<"$line"
        [[ $line == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE=$line
        COMP_POINT=${#line}
        COMPREPLY=()
        _ipvsctl ipvsctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    }
    # offers LINE EXPECTED...: exactly EXPECTED is offered (order ignored).
    # Set comparisons in plain bash: forks are slow on a loaded machine.
    has() {  # has WORD: COMPREPLY contains WORD
        local c
        for c in "${COMPREPLY[@]}"; do [ "$c" = "$1" ] && return 0; done
        return 1
    }
    offers() {
        local line=$1 w c ok=1
        shift
        complete_line "$line"
        for w in "$@"; do has "$w" || ok=0; done
        for c in "${COMPREPLY[@]}"; do
            local found=0
            for w in "$@"; do [ "$c" = "$w" ] && found=1; done
            [ $found = 1 ] || ok=0
        done
        if [ $ok = 1 ]; then
            echo "ok   '$line' -> ${COMPREPLY[*]}"
        else
            echo "FAIL '$line': want '$*', got '${COMPREPLY[*]}'"
            failed=1
        fi
    }
    # includes LINE WORD...: the offers contain every WORD.
    includes() {
        local line=$1 w
        shift
        complete_line "$line"
        for w in "$@"; do
            has "$w" || { echo "FAIL '$line' lacks '$w' (got ${COMPREPLY[*]})"; failed=1; return; }
        done
        echo "ok   '$line' includes $*"
    }
    # excludes LINE WORD...: the offers contain none of WORD.
    excludes() {
        local line=$1 w
        shift
        complete_line "$line"
        for w in "$@"; do
            ! has "$w" || { echo "FAIL '$line' offers '$w'"; failed=1; return; }
        done
        echo "ok   '$line' excludes $*"
    }

    offers "ipvsctl -A -t 10.0.0.1:80 -s " rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos
    offers "ipvsctl -A -t 10.0.0.1:80 -s w" wrr wlc
    offers "ipvsctl --scheduler lb" lblc lblcr
    offers "ipvsctl -A -t 10.0.0.1:80 -s sh -b sh-fallback,sh-" sh-fallback,sh-port
    includes "ipvsctl " apply diff drain
    offers "ipvsctl dr" drain
    offers "ipvsctl --netns blue ap" apply
    offers "ipvsctl --start-daemon " master backup
    offers "ipvsctl --stop-daemon b" backup
    offers "ipvsctl --sta" --start-daemon
    offers "ipvsctl -L --sta" --stats
    includes "ipvsctl -a -t 10.0.0.1:80 -r 10.0.0.2 -" -g -i -m --gatewaying --ipip --masquerading -w
    offers "ipvsctl -a -t 10.0.0.1:80 -r 10.0.0.2 --tun-type " ipip gue gre
    includes "ipvsctl -" -A -E -D -C -R -S -a -e -d -L -Z --set --start-daemon --stop-daemon
    excludes "ipvsctl -" -w -s -g
    offers "ipvsctl -L --j" --json
    offers "ipvsctl apply --" --file --prune --netns --help --dry-run
    offers "ipvsctl diff --" --file --prune --netns --help
    includes "ipvsctl drain -" -t -u -f -r --timeout
    includes "ipvsctl " realserver vrrp check
    offers "ipvsctl realserver setup --mode " dr tun
    includes "ipvsctl realserver setup -" --mode --vip --interface --dry-run
    offers "ipvsctl check " drain status undrain --socket -h --help
    includes "ipvsctl check drain tcp:192.0.2.1:80 10.0.0.1:80 -" --timeout --wait
    includes "ipvsctl vrrp status -" --json --socket
    offers "ipvsctl -A -t "
    return $failed
}

status=0
# Every long option that ipvsctl(8) documents is offered somewhere.
missing=$(comm -23 \
    <(grep -oE '\\-\\-[a-z][a-z0-9\\-]*' "$src/man/ipvsctl.8" | sed 's/\\-/-/g' | sort -u) \
    <(grep -oE -- '--[a-z][a-z0-9-]*' "$src/packaging/bash-completion/ipvsctl" | sort -u))
[ -z "$missing" ] || { echo "FAIL ipvsctl(8) documents, the completion lacks:" $missing; status=1; }
if [ -r /usr/share/bash-completion/bash_completion ]; then
    echo "--- with bash-completion's helpers"
    # shellcheck source=/dev/null
    (. /usr/share/bash-completion/bash_completion && run_checks) || status=1
fi
echo "--- plain bash"
(unset -f _init_completion 2>/dev/null; run_checks) || status=1
exit $status
