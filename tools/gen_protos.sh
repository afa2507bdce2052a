#!/usr/bin/env bash
# Regenerates the Python stubs of the laughter.v1 API from protos/laughter/v1/*.proto.
#
#   tools/gen_protos.sh           write the stubs into clients/python/src/laughter/v1/
#   tools/gen_protos.sh --check   regenerate into a temporary folder and fail if the committed stubs differ
#
# The stubs import each other as `laughter.v1.<name>_pb2` (package root: clients/python/src) and import
# `google.rpc.status_pb2` from the googleapis-common-protos package at run time; google's own modules are
# never generated here. PYTHON selects the interpreter (default: the repository's .venv).
set -euo pipefail

readonly GRPC_TOOLS_VERSION="1.81.1"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
proto_root="${repo_root}/protos"
out_dir="${repo_root}/clients/python/src/laughter/v1"
python="${PYTHON:-${repo_root}/.venv/bin/python}"

usage() {
    sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

mode="write"
case "${1:-}" in
    "") ;;
    --check) mode="check" ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
esac

if [[ ! -x "${python}" ]]; then
    echo "gen_protos: no Python interpreter at ${python} (set PYTHON)" >&2
    exit 2
fi

installed_version="$("${python}" -c 'import importlib.metadata as m; print(m.version("grpcio-tools"))' 2>/dev/null || true)"
if [[ "${installed_version}" != "${GRPC_TOOLS_VERSION}" ]]; then
    echo "gen_protos: need grpcio-tools==${GRPC_TOOLS_VERSION} (found: ${installed_version:-none});" \
        "the generated code embeds the generator's version" >&2
    exit 2
fi

# Folder that holds google/rpc/status.proto as shipped by googleapis-common-protos.
googleapis_root="$("${python}" -c '
import pathlib, google.rpc.status_pb2 as s
print(pathlib.Path(s.__file__).resolve().parents[2])
')"
if [[ ! -f "${googleapis_root}/google/rpc/status.proto" ]]; then
    echo "gen_protos: google/rpc/status.proto not found under ${googleapis_root}" \
        "(install googleapis-common-protos)" >&2
    exit 2
fi

# Writes every generated module for protos/laughter/v1 into "$1/laughter/v1".
generate() {
    local target="$1"
    local protos=()
    local services=()
    mkdir -p "${target}"
    cd "${proto_root}"
    mapfile -t protos < <(find laughter/v1 -name '*.proto' | LC_ALL=C sort)
    # Only files that declare a service get a *_pb2_grpc.py module.
    mapfile -t services < <(grep -l '^service ' "${protos[@]}")
    "${python}" -m grpc_tools.protoc -I . -I "${googleapis_root}" \
        --python_out="${target}" --pyi_out="${target}" "${protos[@]}"
    "${python}" -m grpc_tools.protoc -I . -I "${googleapis_root}" \
        --grpc_python_out="${target}" "${services[@]}"
    cd - >/dev/null
}

# Lists the generated files (relative paths) under folder "$1".
list_generated() {
    (cd "$1" && find . -maxdepth 1 -type f \( -name '*_pb2.py' -o -name '*_pb2.pyi' -o -name '*_pb2_grpc.py' \) \
        | sed 's|^\./||' | LC_ALL=C sort)
}

scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
generate "${scratch}"
fresh="${scratch}/laughter/v1"

if [[ "${mode}" == "check" ]]; then
    status=0
    if ! diff -u --label committed --label generated <(list_generated "${out_dir}" 2>/dev/null || true) \
        <(list_generated "${fresh}") >"${scratch}/files.diff"; then
        echo "gen_protos: the set of generated files differs:" >&2
        cat "${scratch}/files.diff" >&2
        status=1
    fi
    while IFS= read -r name; do
        if [[ -f "${out_dir}/${name}" ]] && ! diff -u --label "committed/${name}" --label "generated/${name}" \
            "${out_dir}/${name}" "${fresh}/${name}" >"${scratch}/file.diff"; then
            echo "gen_protos: ${name} is out of date:" >&2
            head -n 40 "${scratch}/file.diff" >&2
            status=1
        fi
    done < <(list_generated "${fresh}")
    if [[ "${status}" -ne 0 ]]; then
        echo "gen_protos: stubs are stale; run tools/gen_protos.sh" >&2
        exit 1
    fi
    echo "gen_protos: stubs are up to date"
    exit 0
fi

mkdir -p "${out_dir}"
while IFS= read -r name; do
    rm -f "${out_dir}/${name}"
done < <(list_generated "${out_dir}")
while IFS= read -r name; do
    cp "${fresh}/${name}" "${out_dir}/${name}"
done < <(list_generated "${fresh}")
echo "gen_protos: wrote $(list_generated "${out_dir}" | wc -l) files to ${out_dir#"${repo_root}/"}"
