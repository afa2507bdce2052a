#!/usr/bin/env bash
# Regenerates the page's TypeScript messages and service descriptors (protoc-gen-es, via buf) from
# protos/laughter/v1/*.proto into clients/web/src/gen/.
#
#   tools/gen_web_protos.sh           write clients/web/src/gen/
#   tools/gen_web_protos.sh --check   generate into a temporary folder and fail if the committed files differ
#
# Needs buf (npm ci at the repository root) and protoc-gen-es (npm ci in clients/web).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
buf="${repo_root}/node_modules/.bin/buf"
plugin="${repo_root}/clients/web/node_modules/.bin/protoc-gen-es"
out_dir="${repo_root}/clients/web/src/gen"

for tool in "${buf}" "${plugin}"; do
    if [[ ! -x "${tool}" ]]; then
        echo "gen_web_protos: ${tool} missing; run npm ci (repository root) and make web (clients/web)" >&2
        exit 2
    fi
done

scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
sed "s|out: clients/web/src/gen|out: ${scratch}/gen|" "${repo_root}/clients/web/buf.gen.yaml" >"${scratch}/buf.gen.yaml"
(cd "${repo_root}" && "${buf}" generate protos --template "${scratch}/buf.gen.yaml")

if [[ "${1:-}" == "--check" ]]; then
    if ! diff -ru "${out_dir}" "${scratch}/gen" >"${scratch}/gen.diff"; then
        head -n 40 "${scratch}/gen.diff" >&2
        echo "gen_web_protos: clients/web/src/gen is stale; run make proto" >&2
        exit 1
    fi
    echo "gen_web_protos: TypeScript messages are up to date"
    exit 0
fi
rm -rf "${out_dir}"
cp -r "${scratch}/gen" "${out_dir}"
echo "gen_web_protos: wrote $(find "${out_dir}" -name '*.ts' | wc -l) files to clients/web/src/gen"
