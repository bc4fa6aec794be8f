#!/bin/sh
# tron SSH agent: one per SSH connection, it starts attempts on the node and reports on them, so a
# launch costs trond one message instead of a channel, and the end of an attempt comes to trond
# as one line instead of being polled for.
#
# usage: sh ssh_agent.sh   (requests on stdin, replies on stdout; exits at end of stdin)
#
# A request is a header line `ID STARTED MARKER DIR`, then the lines of a shell snippet that
# exports the attempt's environment, a line MARKER, then the command text and a line MARKER.
# MARKER is a token that is no line of either text. Replies, each one write(2) of one line, in
# any order between attempts:
#   p ID PID                     the command runs, as PID (its pid, process group and session)
#   e ID MESSAGE                 it could not be started
#   x ID STATUS SIGNAL OUT ERR   it ended; SIGNAL is - unless killed; OUT/ERR are 1 when
#                                DIR/stdout / DIR/stderr are not empty
#
# Each attempt gets the records of wrapper.sh, so trond reads, signals and reattaches to both
# alike: DIR/supervisor, started, pid, signal, exit, each one write(2) ending in a newline, and
# the command's stdout and stderr in DIR/stdout and DIR/stderr. Its supervisor is a forked
# subshell of ours, orphaned at once (so that we never collect zombies), that survives us: we
# run under sshd without a terminal, so no hangup reaches it when the connection drops or trond
# dies, and it ignores SIGPIPE (once the command is started, which must not) so that a reply
# nobody reads any more costs it nothing. trond then reads the records from the files.
# The command gets a session and process group of its own through `setsid`, as under wrapper.sh;
# that group is what trond signals. Only POSIX sh features plus `setsid`, `mkdir` and `rm`; our
# names start with tron_ as the command inherits the environment we run in.

tron_setsid=
if command -v setsid >/dev/null 2>&1; then
    tron_setsid=setsid
fi

tron_put() {
    printf '%s\n' "$2" >"$tron_dir/$1"
}

tron_block() {
    # Lines up to the marker line, into tron_text; false if stdin ends first.
    tron_text=
    while IFS= read -r tron_line; do
        if [ "$tron_line" = "$tron_marker" ]; then
            return 0
        fi
        tron_text="$tron_text$tron_line
"
    done
    return 1
}

tron_supervise() {
    eval "$tron_env"
    # $tron_setsid is unquoted on purpose: when empty it must vanish from the command line.
    # A text too long for one argument (Linux: 128 KiB) runs from its file instead.
    if [ "${#tron_command}" -lt 100000 ]; then
        set -- -c "$tron_command"
    else
        set -- "$tron_dir/command"
    fi
    $tron_setsid /bin/sh "$@" </dev/null >"$tron_dir/stdout" 2>"$tron_dir/stderr" &
    tron_pid=$!
    trap '' PIPE
    tron_put pid "$tron_pid"
    echo "p $tron_id $tron_pid"
    tron_put started "$tron_started"
    wait "$tron_pid"
    tron_status=$?
    tron_signal=-
    if [ "$tron_status" -gt 128 ] && [ "$tron_status" -lt 193 ]; then
        tron_signal=$((tron_status - 128))
        tron_put signal "$tron_signal"
    fi
    tron_put exit "$tron_status"
    tron_out=0
    tron_err=0
    [ -s "$tron_dir/stdout" ] && tron_out=1
    [ -s "$tron_dir/stderr" ] && tron_err=1
    echo "x $tron_id $tron_status $tron_signal $tron_out $tron_err"
}

tron_launch() {
    if [ -d "$tron_dir" ]; then
        # A relaunch into the same directory: forget the earlier attempt's records.
        rm -f "$tron_dir/exit" "$tron_dir/signal" "$tron_dir/pid"
    else
        mkdir -p "$tron_dir"
    fi || return 1
    printf '%s' "$tron_command" >"$tron_dir/command" || return 1
    tron_supervise </dev/null 2>/dev/null &
    tron_put supervisor "$!"
}

while IFS=' ' read -r tron_id tron_started tron_marker tron_dir; do
    tron_block || exit 0
    tron_env=$tron_text
    tron_block || exit 0
    tron_command=$tron_text
    # Twice forked: the launch (mkdir and all) runs beside the next requests, and its orphaned
    # processes are no zombies of ours.
    ( { tron_launch 2>/dev/null || echo "e $tron_id cannot prepare $tron_dir"; } & )
done
