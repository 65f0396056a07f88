//! `redact_url`: a URL safe to print, with user information, conda tokens and signed query values
//! replaced (uv's `DisplaySafeUrl` idea).

/// The URL with the password of any user information, a `/t/<TOKEN>/` path segment and the values
/// of `X-Amz-Signature`, `X-Amz-Credential` and `X-Amz-Security-Token` replaced by `****`.
///
/// Works on the text, so it also redacts strings that are not valid URLs (a mistyped host).
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(at) => url.split_at(at + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    out.push_str(user);
                    out.push_str(":****");
                }
                // A lone user name may itself be a token (`https://TOKEN@host`).
                None => out.push_str("****"),
            }
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    let (path, query) = match tail.find(['?', '#']) {
        Some(at) => tail.split_at(at),
        None => (tail, ""),
    };
    let mut segments = path.split('/').peekable();
    let mut first = true;
    while let Some(segment) = segments.next() {
        if !first {
            out.push('/');
        }
        first = false;
        out.push_str(segment);
        if segment == "t" && segments.peek().is_some() {
            segments.next();
            out.push_str("/****");
        }
    }
    out.push_str(&redact_query(query));
    out
}

fn redact_query(query: &str) -> String {
    let Some(params) = query.strip_prefix('?') else {
        return query.to_owned();
    };
    let (params, fragment) = match params.find('#') {
        Some(at) => params.split_at(at),
        None => (params, ""),
    };
    let redacted: Vec<String> = params
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_sensitive_param(name) => format!("{name}=****"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("?{}{fragment}", redacted.join("&"))
}

fn is_sensitive_param(name: &str) -> bool {
    [
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "token",
        "access_token",
    ]
    .iter()
    .any(|sensitive| name.eq_ignore_ascii_case(sensitive))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_every_secret_a_url_can_carry() {
        let urls = [
            "https://prefix.dev/conda-forge/repodata.json",
            "https://user:hunter2@host.example/simple/",
            "https://tok3n@host.example/",
            "https://conda.anaconda.org/t/abc-123/conda-forge/noarch",
            "https://conda.anaconda.org/t/abc-123",
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=AK%2F&X-Amz-Signature=deadbeef&x=1#frag",
            "host.example:8443/t/tok/x",
        ];
        let out: Vec<String> = urls.iter().map(|url| redact_url(url)).collect();
        insta::assert_snapshot!(out.join("\n"), @r"
        https://prefix.dev/conda-forge/repodata.json
        https://user:****@host.example/simple/
        https://****@host.example/
        https://conda.anaconda.org/t/****/conda-forge/noarch
        https://conda.anaconda.org/t/****
        https://b.s3.amazonaws.com/k?X-Amz-Credential=****&X-Amz-Signature=****&x=1#frag
        host.example:8443/t/****/x
        ");
    }
}
