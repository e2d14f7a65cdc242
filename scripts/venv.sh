# Sourced by scripts/test, scripts/smoke, scripts/e2e and scripts/bench (from the
# repository root): a virtual environment made once and reused while its stamp (what it
# was made from) stays the same.

# venv_pip VENV ARGS...: pip install into VENV, quietly. Some machines point pip at
# local package folders that do not exist; their warnings are noise.
venv_pip() {
  local venv=$1
  shift
  "$venv/bin/python" -m pip install --quiet "$@" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

# venv_current VENV STAMP: true when VENV exists and was made for STAMP.
venv_current() {
  [ -x "$1/bin/python" ] && [ "$(cat "$1/.stamp" 2>/dev/null)" = "$2" ]
}

# venv_new VENV PYTHON: VENV made anew with PYTHON, with a current pip.
venv_new() {
  rm -rf "$1"
  "$2" -m venv "$1"
  venv_pip "$1" --upgrade pip
}

# venv_done VENV STAMP: VENV is complete for STAMP (written last, so that a failed
# install is made again next time).
venv_done() {
  echo "$2" > "$1/.stamp"
}
