"""Generated Python stubs of the laughter.v1 API; regenerate with tools/gen_protos.sh, never edit."""
