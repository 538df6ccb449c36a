"""A real editor as client: Debian's Neovim (0.7.2) starts `hplint server`
with its built-in LSP client, shows hplint's diagnostics, and applies the
`bias=False` quick fix through `textDocument/codeAction`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import needs

NVIM = needs.program("nvim", "apt-get install -y neovim; `make test` installs it when it can", module_level=True)

EXAMPLE = (
    "import torch.nn as nn\n"
    "\n"
    "# ünïcødé 😀\n"
    "net = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))  # ünïcødé\n"
)

SCRIPT = r"""
local out = os.getenv('HPLINT_NVIM_OUT')
local buf = vim.api.nvim_get_current_buf()
local function finish(result)
  local f = assert(io.open(out, 'w'))
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd('qa!')
end
local id = vim.lsp.start_client({
  name = 'hplint',
  cmd = {os.getenv('HPLINT_PYTHON'), '-m', 'hplint', 'server'},
  root_dir = vim.fn.getcwd(),
})
vim.lsp.buf_attach_client(buf, id)
if not vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50) then
  finish({error = 'no diagnostics'})
  return
end
local diags = vim.diagnostic.get(buf)
local result = {diagnostics = {}, titles = {}}
for _, d in ipairs(diags) do
  table.insert(result.diagnostics, {lnum = d.lnum, col = d.col, end_col = d.end_col, code = d.code,
                                    source = d.source, severity = d.severity, message = d.message})
end
local d = diags[1]
local params = {
  textDocument = {uri = vim.uri_from_bufnr(buf)},
  range = {start = {line = d.lnum, character = 0}, ['end'] = {line = d.lnum, character = 0}},
  context = {diagnostics = vim.lsp.diagnostic.get_line_diagnostics(buf, d.lnum)},
}
local responses = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 10000) or {}
local chosen = nil
for _, response in pairs(responses) do
  for _, action in ipairs(response.result or {}) do
    table.insert(result.titles, action.title)
    if chosen == nil and action.title:find('bias=False', 1, true) then chosen = action end
  end
end
if chosen then
  vim.lsp.util.apply_workspace_edit(chosen.edit, 'utf-16')
  vim.cmd('write')
end
finish(result)
"""


def test_neovim_shows_diagnostics_and_applies_the_quick_fix(tmp_path):
    example = tmp_path / "example.py"
    example.write_text(EXAMPLE, encoding="utf-8")
    script = tmp_path / "hplint.lua"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "result.json"
    env = {
        **os.environ,
        "HPLINT_PYTHON": sys.executable,
        "HPLINT_NVIM_OUT": str(out),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    proc = subprocess.run([NVIM, "--headless", "--clean", "-c", f"luafile {script}", str(example)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)
    assert out.exists(), f"nvim wrote no result (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(out.read_text())
    assert "error" not in result, result
    (diag,) = result["diagnostics"]
    line = EXAMPLE.splitlines()[3]
    assert diag["code"] == "HPL002" and diag["source"] == "hplint" and diag["severity"] == 2
    assert diag["lnum"] == 3
    assert diag["col"] == len(line[: line.index("nn.Linear")].encode("utf-8"))  # Neovim keeps byte columns
    assert "Set bias=False (HPL002)" in result["titles"] and "Disable HPL002 for this line" in result["titles"]
    assert example.read_text(encoding="utf-8") == EXAMPLE.replace("nn.Linear(8, 8)", "nn.Linear(8, 8, bias=False)")
