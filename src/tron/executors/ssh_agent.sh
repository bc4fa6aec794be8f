#!/bin/sh
# tron SSH agent: one per SSH connection, it starts attempts on the node and reports on them, so a
# launch costs trond one message instead of a channel, and the end of an attempt comes to trond
# as one line instead of being polled for.
#
# usage: sh ssh_agent.sh RUNS   (requests on stdin, replies on stdout; exits at end of stdin)
#
# RUNS is the directory that holds every attempt's files, side by side: an attempt's files are
# named PREFIX<record>, where PREFIX starts with RUNS/, so a launch creates no directory.
# A request is a header line `ID STARTED MARKER MODE PREFIX` (MODE is `reclaim` for a launch that
# follows trond's claim that the attempt never started, else `-`), then the lines of a shell
# snippet that exports the attempt's environment, a line MARKER, then the command text and a line MARKER.
# MARKER is a token that is no line of either text. Replies, each one write(2) of one line, in
# any order between attempts:
#   p ID PID                     the command runs, as PID (its pid, process group and session)
#   e ID MESSAGE                 it could not be started
#   x ID STATUS SIGNAL OUT ERR   it ended; SIGNAL is - unless killed; OUT/ERR are 1 when
#                                PREFIXstdout / PREFIXstderr are not empty
#
# Each attempt gets the records trond reads (their formats: tron/executors/supervisor.py), so it
# signals and reattaches to both alike: PREFIXexit, reserved before anything starts and
# overwritten in place at the end, PREFIXsupervisor, pid, signal, each other record one write(2)
# ending in a newline, and the command's stdout and stderr in PREFIXstdout and PREFIXstderr.
# Its supervisor is a child of ours that survives us: we run under sshd without a terminal, so
# no hangup reaches it when the connection drops or trond dies, and it ignores SIGPIPE (once the
# command is started, which must not: the command gets it at its default) so that a reply nobody
# reads any more costs it nothing. trond then reads the records from the files. Process creation
# and file metadata are the dearest things here (STARTED, in the header, is written nowhere:
# nobody reads it back), so a launch forks the supervisor once and the supervisor starts the
# command through `setsid`: its session and process group are what trond signals. Only POSIX sh
# features plus `setsid`, `mkdir` and `rm`; our names start with tron_ as the command inherits
# the environment we run in.

tron_setsid=
if command -v setsid >/dev/null 2>&1; then
    tron_setsid=setsid
fi
[ -d "$1" ] || mkdir -p "$1" || exit 1

tron_put() {
    printf '%s\n' "$2" >"$tron_at$1"
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
        set -- "${tron_at}command"
    fi
    $tron_setsid /bin/sh "$@" </dev/null >"${tron_at}stdout" 2>"${tron_at}stderr" &
    tron_pid=$!
    trap '' PIPE
    tron_put pid "$tron_pid"
    echo "p $tron_id $tron_pid"
    wait "$tron_pid"
    tron_status=$?
    tron_signal=-
    if [ "$tron_status" -gt 128 ] && [ "$tron_status" -lt 193 ]; then
        tron_signal=$((tron_status - 128))
        tron_put signal "$tron_signal"
    fi
    printf '%-16s\n' "$tron_status" 1<>"${tron_at}exit"
    tron_out=0
    tron_err=0
    [ -s "${tron_at}stdout" ] && tron_out=1
    [ -s "${tron_at}stderr" ] && tron_err=1
    echo "x $tron_id $tron_status $tron_signal $tron_out $tron_err"
}

tron_launch() {
    if [ -e "${tron_at}exit" ] || [ -e "${tron_at}pid" ]; then
        # trond claimed the attempt as never started (SshExecutor.reattach): only a launch that
        # says it follows that claim may take it back, not a request written before it.
        if { IFS= read -r tron_line <"${tron_at}exit"; } 2>/dev/null &&
            [ "$tron_line" = "never started" ] && [ "$tron_mode" != reclaim ]; then
            echo "e $tron_id claimed by trond as never started"
            return 0
        fi
        # A relaunch with the same prefix: forget the earlier attempt's records.
        rm -f "${tron_at}exit" "${tron_at}signal" "${tron_at}pid" || return 1
    fi
    # The exit record is reserved first, with O_EXCL (set -C), while the disk has room for it:
    # whoever creates it owns the attempt, this launch or trond's claim that it never started.
    set -C
    { printf '%17s' '' >"${tron_at}exit"; } 2>/dev/null
    tron_line=$?
    set +C
    if [ "$tron_line" != 0 ]; then
        [ -e "${tron_at}exit" ] || return 1
        echo "e $tron_id claimed by trond as never started"
        return 0
    fi
    # Written here, by builtins, so that a place we cannot write to is an error reply.
    { : >"${tron_at}stdout"; } 2>/dev/null || return 1
    if [ "${#tron_command}" -ge 100000 ]; then
        printf '%s' "$tron_command" >"${tron_at}command" || return 1
    fi
    tron_supervise </dev/null 2>/dev/null &
    tron_put supervisor "$!"
}

while IFS=' ' read -r tron_id tron_started tron_marker tron_mode tron_at; do
    tron_block || exit 0
    tron_env=$tron_text
    tron_block || exit 0
    tron_command=$tron_text
    tron_launch 2>/dev/null || echo "e $tron_id cannot write the records ${tron_at}exit, stdout"
    # sh reaps ended supervisors as it forks new ones, but forgets their jobs only when it lists
    # them; listing costs a line per running attempt, so once every 100 launches.
    case $tron_id in *00) jobs >/dev/null ;; esac
done
