// Hash routes (#/job/<name>/<run>/<action>?k=v): every page has a URL that can be shared.

export function href(...segments) {
  return "#/" + segments.map((x) => encodeURIComponent(String(x))).join("/");
}

export function current() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?");
  const segments = path ? path.split("/").map((x) => decodeURIComponent(x)) : [];
  return { segments, query: new URLSearchParams(search) };
}

// Changes the query of the current page without a navigation (filters, selections).
export function replaceQuery(query) {
  const raw = location.hash.split("?")[0] || "#/";
  const text = query.toString();
  history.replaceState(null, "", text ? `${raw}?${text}` : raw);
}

export function match(routes, segments) {
  for (const route of routes) {
    if (route.head !== (segments[0] || "")) continue;
    const rest = segments.slice(1);
    if (rest.length >= route.min && rest.length <= route.max) return { route, params: rest };
  }
  return null;
}
