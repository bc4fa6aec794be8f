"""Which namespace names a config may use: each becomes a file next to trond's own."""

from __future__ import annotations

from tron.config.excerpt import cut

# trond's own file in the config directory; a namespace of that name would overwrite it.
_RESERVED = frozenset({"_manifest"})
# A namespace name becomes `<name>.yaml`, and file names hold at most 255 bytes.
_MAX_BYTES = 250


def namespace_name_problem(name: str) -> str | None:
    """Why `name` cannot name a namespace, or None when it can.

    Tron does not check namespace names; we refuse those that would break a run id (split on
    dots), leave the config directory (path separators), hide the file (a leading dot) or take
    the place of one of trond's files (`_manifest`), and names no file system holds.
    """
    shown = repr(cut(name))
    if not name:
        return "Namespace name must not be empty"
    if "." in name:
        return f"Namespace name {shown} must not contain '.' (run ids are split on dots)"
    if "/" in name or "\\" in name:
        return f"Namespace name {shown} must not contain '/' or '\\\\'"
    if not name.isprintable():
        return f"Namespace name {shown} must not contain unprintable characters"
    if name.casefold() in _RESERVED:
        return f"Namespace name {shown} is reserved for trond's own files"
    if len(name.encode("utf-8", "surrogatepass")) > _MAX_BYTES:
        return f"Namespace name {shown} is longer than {_MAX_BYTES} bytes"
    return None
