"""The report page's stylesheet (inlined into the HTML: no external assets)."""

from __future__ import annotations

__all__ = ["CSS"]

CSS = r"""
:root{--bg:#fff;--fg:#1d2330;--mute:#667085;--line:#e4e7ec;--soft:#f6f7f9;--code:#f3f4f6;
--failed:#d92d20;--error:#b54708;--xpassed:#c4320a;--rerun:#7a5af8;--skipped:#667085;--xfailed:#8a94a6;--passed:#12805c}
@media (prefers-color-scheme:dark){:root{--bg:#14161b;--fg:#e6e8ec;--mute:#98a2b3;--line:#2b2f38;--soft:#1b1e25;
--code:#1f232b;--failed:#f97066;--error:#fdb022;--xpassed:#fd853a;--passed:#32d583}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header.top{position:sticky;top:0;z-index:2;background:var(--bg);border-bottom:1px solid var(--line);
padding:10px 18px 8px}
h1{font-size:18px;margin:0 0 2px}
h3{font-size:13px;margin:12px 0 4px;color:var(--mute);text-transform:uppercase;letter-spacing:.04em}
#meta{color:var(--mute);font-size:12px}
.bar{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-top:8px}
.chip{border:1px solid var(--line);background:var(--soft);color:var(--fg);border-radius:14px;padding:2px 10px;
cursor:pointer;font:inherit;font-size:13px}
.chip b{margin-left:4px}
.chip[aria-pressed=false]{opacity:.45;text-decoration:line-through}
.chip.o-failed b,.b.o-failed{color:var(--failed)}
#q{flex:1 1 260px;min-width:200px;padding:4px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);
color:var(--fg);font:inherit}
button.act{border:1px solid var(--line);background:var(--bg);color:var(--fg);border-radius:6px;padding:3px 9px;
cursor:pointer;font:inherit;font-size:13px}
#count{color:var(--mute);font-size:12px;margin-left:auto}
main{padding:8px 18px 40px}
details.panel{border:1px solid var(--line);border-radius:8px;margin:8px 0;background:var(--soft)}
details.panel>summary{cursor:pointer;padding:6px 10px;font-weight:600}
details.panel>summary span{font-weight:400;color:var(--mute)}
details.panel>div{padding:0 10px 10px;overflow:auto}
table{border-collapse:collapse;font-size:13px}
th,td{text-align:left;padding:3px 10px 3px 0;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--mute);font-weight:600}
.t{border-bottom:1px solid var(--line)}
.h{display:flex;gap:10px;align-items:baseline;padding:5px 4px;cursor:pointer;white-space:nowrap}
.h:hover,.h:focus{background:var(--soft);outline:none}
.b{flex:none;width:64px;font-size:12px;font-weight:600;text-transform:uppercase}
.o-failed>.h .b,.o-failed b{color:var(--failed)}.o-error>.h .b,.o-error b{color:var(--error)}
.o-xpassed>.h .b,.o-xpassed b{color:var(--xpassed)}.o-rerun>.h .b,.o-rerun b{color:var(--rerun)}
.o-skipped>.h .b,.o-skipped b{color:var(--skipped)}.o-xfailed>.h .b,.o-xfailed b{color:var(--xfailed)}
.o-passed>.h .b,.o-passed b{color:var(--passed)}
.n{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;overflow:hidden;text-overflow:ellipsis}
.m{color:var(--mute);overflow:hidden;text-overflow:ellipsis;flex:1 1 0;min-width:0}
.u{flex:none;color:var(--mute);font-size:12px;margin-left:auto}
.d{padding:2px 4px 12px 78px}
.d .meta{color:var(--mute);font-size:12px}
pre{margin:2px 0 6px;padding:8px 10px;background:var(--code);border-radius:6px;overflow:auto;max-height:420px;
font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre}
.svc{margin:6px 0 0;font-weight:600;font-size:13px}.svc small{font-weight:400;color:var(--mute)}
.quiet{color:var(--mute);font-size:12px}
.shots img{max-width:360px;max-height:240px;border:1px solid var(--line);border-radius:4px;margin:4px 8px 4px 0}
.ok{color:var(--passed);font-weight:600}.bad{color:var(--failed);font-weight:600}
.sev-critical,.sev-high{color:var(--failed);font-weight:600}.sev-medium{color:var(--error);font-weight:600}
#more{padding:10px 0}
svg.tl text{font:11px system-ui,sans-serif;fill:var(--fg)}svg.tl .ax{fill:var(--mute)}
svg.tl rect.bar{fill:#4e8ef7}svg.tl line{stroke:var(--line)}
.empty{color:var(--mute);padding:16px 4px}
"""
