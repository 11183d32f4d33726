"""Was the sender's domain authenticated? Read from `Authentication-Results` (RFC 8601).

Only the receiving mail server that we trust (its authserv-id, TRUSTED_AUTHSERV_ID) can say:
anyone can write such a header into a message, so headers of other ids are ignored, and of
ours only the topmost counts (that server adds its own above what came with the message).
The From domain counts as authenticated on DMARC pass for it, or on a DKIM or SPF pass for a
domain aligned with it (relaxed alignment, RFC 7489 s 3.1: the same domain or a parent or
child of it). Pure code: header values in, a verdict out.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Result:
    """One `method=result` of an Authentication-Results header, with its properties."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


def _without_comments(value: str) -> str:
    """RFC 5322 comments (nested parentheses) removed; quoted strings kept."""
    out, depth, quoted = [], 0, False
    for char in value:
        if char == '"' and depth == 0:
            quoted = not quoted
        if not quoted and char == "(":
            depth += 1
            continue
        if not quoted and char == ")" and depth:
            depth -= 1
            continue
        if depth == 0:
            out.append(char)
    return "".join(out)


def parse(value: str) -> tuple[str, list[Result]]:
    """(authserv-id, results) of one header value; ("", []) when it is not one."""
    parts = [p.strip() for p in _without_comments(value).split(";")]
    if not parts or not parts[0]:
        return "", []
    authserv_id = parts[0].split()[0].lower()
    results = []
    for part in parts[1:]:
        tokens = part.split()
        if not tokens or "=" not in tokens[0]:
            continue
        method, _, result = tokens[0].partition("=")
        properties = {}
        for token in tokens[1:]:
            name, _, prop = token.partition("=")
            if prop:
                properties[name.lower()] = prop.strip('"').lower()
        results.append(Result(method.lower().split("/")[0], result.lower(), properties))
    return authserv_id, results


def _domain(value: str) -> str:
    return value.rpartition("@")[2].strip().rstrip(".").lower()


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment: the same domain, or one a subdomain of the other."""
    a, b = _domain(domain), _domain(from_domain)
    return bool(a and b) and (a == b or a.endswith("." + b) or b.endswith("." + a))


def sender_authenticated(header_values: list[str], from_address: str, authserv_id: str) -> bool:
    """Whether our trusted server's topmost Authentication-Results authenticates the From
    address's domain (DMARC pass, or an aligned DKIM or SPF pass)."""
    trusted = authserv_id.strip().lower()
    from_domain = _domain(from_address)
    for value in header_values:
        server, results = parse(value)
        if server != trusted:
            continue
        return any(_authenticates(result, from_domain) for result in results)
    return False


def _authenticates(result: Result, from_domain: str) -> bool:
    if result.result != "pass":
        return False
    props = result.properties
    if result.method == "dmarc":
        return aligned(props.get("header.from", from_domain), from_domain)
    if result.method == "dkim":
        signer = props.get("header.d") or props.get("header.i", "")
        return aligned(signer, from_domain)
    if result.method == "spf":
        return aligned(props.get("smtp.mailfrom") or props.get("smtp.helo", ""), from_domain)
    return False
