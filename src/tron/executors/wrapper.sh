#!/bin/sh
# tron supervisor: run one attempt's command detached from the daemon and record how it went.
#
# usage: sh wrapper.sh [-s] DIR [STARTED]
#   DIR/command  the command text, run with `sh -c`; read from a file so no quoting ever applies
#   -s           the caller already made us a session leader (the local executor does, through
#                start_new_session); without it we re-run ourselves under `setsid`.
#   STARTED      the launch time in epoch seconds, from a caller that knows it; without it we run
#                `date +%s` (whole seconds, one fork more per attempt)
#
# Records written into DIR, each by a single write(2) ending in a newline; a reader must ignore a
# record without its newline (still being written), so it never acts on half of one:
#   supervisor  pid of this supervisor (written by the launcher before it exits)
#   started     epoch seconds when the command was launched
#   pid         pid of the command, which is also its process group and session id
#   signal      N when the command ended with status 128+N (written before `exit`)
#   exit        the command's exit status, 128+N when killed by signal N
# The command's stdout and stderr go to DIR/stdout and DIR/stderr, stdin is /dev/null.
# On our stdout we print the command's pid once it is recorded, then close it: the launcher
# reads until end of file to know that the attempt started.
#
# Only POSIX sh features plus `setsid` (and `date` without STARTED). Without `setsid` (rare: not a
# util-linux system) the supervisor and command stay in the caller's session and process group;
# the command then cannot be signalled as a group and a hangup of the caller's terminal reaches it.
#
# Known limit: POSIX sh starts an asynchronous command with SIGINT and SIGQUIT ignored (job
# control is off without a tty) and dash cannot undo that, so the command ignores those two.
# Tron stops actions with SIGTERM and SIGKILL, which are unaffected.

setsid=
if command -v setsid >/dev/null 2>&1; then
    setsid=setsid
fi
if [ "$1" != -s ]; then
    if [ -n "$setsid" ]; then
        exec setsid /bin/sh "$0" -s "$@"
    fi
    set -- -s "$@"
fi
dir=$2
started=$3

put() {
    # One printf is one write(2) of a few bytes; readers accept a record only once it ends in a
    # newline. That gives them what tmp+mv would, without forking `mv` twice per attempt.
    printf '%s\n' "$2" >"$dir/$1"
}

command=
while IFS= read -r line || [ -n "$line" ]; do
    command="$command$line
"
done <"$dir/command" || exit 2

supervise() {
    # $setsid is unquoted on purpose: when empty it must vanish from the command line.
    $setsid /bin/sh -c "$command" </dev/null >"$dir/stdout" 2>"$dir/stderr" &
    pid=$!
    put pid "$pid"
    echo "$pid"
    exec >/dev/null 2>&1
    put started "${started:-$(date +%s)}"
    wait "$pid"
    status=$?
    if [ "$status" -gt 128 ] && [ "$status" -lt 193 ]; then
        put signal $((status - 128))
    fi
    put exit "$status"
}

supervise </dev/null &
printf '%s\n' "$!" >"$dir/supervisor"
