#!/bin/sh
# bench/project.sh: each service answers only when the one it needs answers
# (httpd gives a CGI no PATH)
PATH=/bin:/sbin:/usr/bin:/usr/sbin
if [ -z "$UPSTREAM" ]; then
	printf 'Content-Type: text/plain\r\n\r\nok\n'
	exit 0
fi
if body=$(wget -q -O- "http://$UPSTREAM/"); then
	printf 'Content-Type: text/plain\r\n\r\n%s\n' "$body"
else
	printf 'Status: 502 Bad Gateway\r\nContent-Type: text/plain\r\n\r\nupstream down\n'
fi
