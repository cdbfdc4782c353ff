#!/usr/bin/env bash
# Set up alliance for a clinic on PostgreSQL: one database, clinicians who each see only
# their own caseload, and a supervisor who reads them all (README: "Running for a clinic").
#
#   PGADMIN=postgresql://postgres@127.0.0.1:5432 bash examples/clinic_setup.sh
#
# PGADMIN: an administrator (superuser or CREATEROLE + CREATEDB) URL without a database.
# CLINIC_DB, CLINICIANS and SUPERVISOR name what is created (defaults below). Passwords
# belong in ~/.pgpass, never in ALLIANCE_DB or the shell history.
set -euo pipefail
admin=${PGADMIN:?set PGADMIN, e.g. postgresql://postgres@127.0.0.1:5432}
db=${CLINIC_DB:-alliance_clinic}
clinicians=${CLINICIANS:-dr_ahmed dr_berg}
supervisor=${SUPERVISOR:-sup_chen}
host=${admin#*@}
sqlalchemy() { echo "postgresql+psycopg://$1@$host/$db"; }
owner=${admin#*://}
owner=${owner%%@*}

# 1. The database; its first alliance command creates the schema, the clinician and
#    supervisor group roles and the row-level security policies.
psql "$admin/postgres" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE $db"
alliance --db "$(sqlalchemy "$owner")" where

# 2. One login role per person (add PASSWORD '...' or use `createuser --pwprompt`),
#    then make them clinicians or supervisors.
for role in $clinicians $supervisor; do
    psql "$admin/postgres" -v ON_ERROR_STOP=1 -q -c "CREATE ROLE $role LOGIN"
done
for role in $clinicians; do
    alliance --db "$(sqlalchemy "$owner")" admin grant-clinician "$role"
done
alliance --db "$(sqlalchemy "$owner")" admin grant-supervisor "$supervisor"

# 3. Each clinician works on their own caseload (codes are unique per clinician).
for role in $clinicians; do
    ALLIANCE_DB=$(sqlalchemy "$role") alliance patient add P001 --since 2026-11-02
    ALLIANCE_DB=$(sqlalchemy "$role") alliance session add P001 --date 2026-11-23 \
        --bond 6 --goal 5 --task 5
    ALLIANCE_DB=$(sqlalchemy "$role") alliance patient list
done

# 4. The supervisor's weekly clinic report: per clinician, sessions, alerts, no contact.
ALLIANCE_DB=$(sqlalchemy "$supervisor") alliance summary --all-clinicians --since 2026-11-20 \
    --until 2026-11-27
