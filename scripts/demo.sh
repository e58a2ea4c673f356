#!/usr/bin/env bash
# The main job on the embedded default: build the bundled sample portal, serve it on 127.0.0.1,
# ingest it into a DuckDB warehouse, print the summary and an example query.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8765}
SITE=build/sample_portal
export BUDGET_DATA_DIR=${BUDGET_DATA_DIR:-./data}
# the runs are recorded in a local Dagster instance: `make ui` shows them (Runs, Overview)
export DAGSTER_HOME=${DAGSTER_HOME:-$PWD/.dagster_home}
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp deploy/dagster.local.yaml "$DAGSTER_HOME/dagster.yaml"

"$PY" -m examples.sample_portal build --out "$SITE" --base-url "http://127.0.0.1:$PORT" --corpus small
"$PY" -m http.server "$PORT" --bind 127.0.0.1 --directory "$SITE" >build/portal-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  "$PY" - "$PORT" 2>/dev/null <<'PYEOF' && break || sleep 0.1
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
PYEOF
done

.venv/bin/budget-etl ingest --sources "$SITE/sources.yaml" --no-robots
echo
.venv/bin/budget-etl report --html build/report
echo
echo "Example query: 一般公共预算支出 by 类 per county and year (万元, summed in 元 and rounded once)"
.venv/bin/budget-etl query "
  SELECT region_name, fiscal_year, class_code, class_name, total_wan, departments
  FROM mart.class_totals_by_region_year
  ORDER BY region_name, fiscal_year, class_code"
