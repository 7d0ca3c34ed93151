"""Content-Security-Policy violations a page reports, for the browser tests.

The recorder is an init script: Playwright injects it before the page's own scripts, and
the page's policy does not apply to it.
"""

from __future__ import annotations

from typing import Any

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}`
    + ` (${event.sourceFile || 'page'}:${event.lineNumber})`
  );
});
"""


def watch_csp(context: Any) -> None:
    """Record the violations of every page opened in ``context`` from now on."""
    context.add_init_script(RECORD_VIOLATIONS)


def csp_violations(tab: Any) -> list[str]:
    """The violations the current page of ``tab`` reported since the last call, one a line."""
    found = tab.evaluate("() => (window.__cspViolations || []).splice(0)")
    return [f"{tab.url}: CSP {line}" for line in found]
