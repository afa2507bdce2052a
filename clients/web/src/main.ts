// The page: a gRPC-Web client of the server that served it, three views (Live, File, Dashboard), a token field.
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { LaughterAnalysisService } from "./gen/laughter/v1/laughter_service_pb";
import { liveView } from "./live";
import { fileView } from "./file";
import { dashboardView } from "./dashboard";
import { h, explain, showError, clearError } from "./render";

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const server = location.host;
const tokenKey = "laughter.token";

const auth: Interceptor = (next) => async (req) => {
  const token = sessionStorage.getItem(tokenKey);
  if (token) req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};
const transport = createGrpcWebTransport({ baseUrl: location.origin, interceptors: [auth] });
const api = createClient(LaughterAnalysisService, transport);

const banner = h("div", { "data-testid": "server-status" });
const token = h("input", { type: "password", placeholder: "access token (if the server needs one)", value: sessionStorage.getItem(tokenKey) ?? "" });
token.addEventListener("change", () => {
  sessionStorage.setItem(tokenKey, token.value.trim());
  void probe();
});

const file = fileView(api, server, () => DEFAULT_MAX_BYTES);
const dashboard = dashboardView(api, server, (stored) => {
  file.showStored(stored);
  select("file");
});
const views = { live: liveView(api, server), file: file.el, dashboard: dashboard.el };
const titles = { live: "Live", file: "File", dashboard: "Dashboard" };
const tabs = h("nav", {});
for (const name of Object.keys(views) as (keyof typeof views)[]) {
  tabs.append(h("button", { "data-view": name, "data-testid": `tab-${name}`, onclick: () => select(name) }, titles[name]));
}

function select(name: keyof typeof views): void {
  for (const [key, el] of Object.entries(views)) el.hidden = key !== name;
  for (const b of tabs.querySelectorAll("button")) b.classList.toggle("active", b.dataset.view === name);
  location.hash = name;
  if (name === "dashboard") void dashboard.refresh();
}

async function probe(): Promise<void> {
  try {
    const reply = await api.listModels({}, { timeoutMs: 5000 });
    clearError(banner);
    banner.append(h("p", { class: "ok" }, `connected to ${server}: ${reply.models.map((m) => `${m.name} ${m.version}`).join(", ")}`));
  } catch (err) {
    showError(banner, explain(err, server));
  }
}

document.body.replaceChildren(
  h("header", {}, h("h1", {}, "Laughter analysis"), tabs, token),
  banner,
  views.live,
  views.file,
  views.dashboard,
);
const first = location.hash.slice(1);
select(first === "file" || first === "dashboard" ? first : "live");
void probe();
