#!/bin/sh
# /usr/local/lib/cradle/import-pgaudit.sh, run by cradle-logs.service (docs/deployment.md §4).
# Import the two newest pgaudit csvlog files. Safe to repeat: events already in the vault are skipped.
set -eu
dir=/var/lib/cradle/pgaudit          # the csvlog files, copied from the database server
rejects=/var/lib/cradle/rejects      # lines that could not be read, one file per log (not next to the logs:
                                     # a <file>.rejects.csv there would match *.csv next time)
for f in $(ls -1t "$dir"/*.csv 2>/dev/null | head -n 2); do
  node /opt/cradle/bin/cradle logs import "$f" --format pgaudit --time-zone UTC \
    --rejects "$rejects/$(basename "$f" .csv).rejects.csv" --json
done
