# HAProxy's `show stat` from the admin socket $1.
printf 'show stat\n' | socat -t 2 stdio "UNIX-CONNECT:$1"
