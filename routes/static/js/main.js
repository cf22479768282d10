// Boot: theme, live connection, header widgets and the hash router (#/stock/RELIANCE, #/orders, ...).
import { session } from "./session.js";
import { connect } from "./socket.js";
import { renderAdmin } from "./views/admin.js";
import { startAlertBell } from "./views/alert_bell.js";
import { renderAlerts } from "./views/alerts.js";
import { renderSignIn, startUserMenu } from "./views/auth.js";
import { startIndexStrip } from "./views/indices.js";
import { renderMarket } from "./views/market.js";
import { renderNews } from "./views/news.js";
import { renderOrders } from "./views/orders.js";
import { renderPeg } from "./views/peg.js";
import { renderPortfolio } from "./views/portfolio.js";
import { renderScanner } from "./views/scanner.js";
import { startSearch } from "./views/search.js";
import { renderSector } from "./views/sectors.js";
import { startStatus } from "./views/status.js";
import { renderStock } from "./views/stock.js";
import { renderWatchlists } from "./views/watchlists.js";

const THEME_KEY = "mdash.theme";
const ROUTES = [
  [/^\/?$/, "market", renderMarket],
  [/^\/stock\/([^/]+)(?:\/(\d{4}-\d{2}-\d{2}))?$/, "market", renderStock],
  [/^\/sector\/([^/]+)$/, "market", renderSector],
  [/^\/watchlists$/, "watchlists", renderWatchlists],
  [/^\/orders$/, "orders", renderOrders],
  [/^\/portfolio$/, "portfolio", renderPortfolio],
  [/^\/alerts$/, "alerts", renderAlerts],
  [/^\/news$/, "news", renderNews],
  [/^\/scanner$/, "scanner", renderScanner],
  [/^\/peg$/, "peg", renderPeg],
  [/^\/admin$/, "admin", renderAdmin],
  [/^\/login$/, "", renderSignIn],
];
let cleanup = null;

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem(THEME_KEY, theme);
  document.dispatchEvent(new CustomEvent("themechange", { detail: theme }));
}

function route() {
  const path = decodeURIComponent(location.hash.replace(/^#/, "")) || "/";
  const [pattern, tab, render] = ROUTES.find(([re]) => re.test(path)) ?? ROUTES[0];
  const params = path.match(pattern)?.slice(1) ?? [];
  if (typeof cleanup === "function") cleanup();
  const view = document.getElementById("view");
  view.replaceChildren();
  document.querySelectorAll(".tabs a").forEach((a) => a.classList.toggle("active", a.dataset.view === tab));
  cleanup = render(view, ...params);
  window.scrollTo(0, 0);
}

const preferred = matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark";
applyTheme(localStorage.getItem(THEME_KEY) ?? preferred);
document.getElementById("theme-toggle").addEventListener("click", () => {
  applyTheme(document.documentElement.dataset.theme === "dark" ? "light" : "dark");
});
connect();
startStatus();
startIndexStrip(document.getElementById("index-strip"));
startSearch(document.getElementById("search"));
startUserMenu(document.getElementById("user-menu"));
startAlertBell(document.getElementById("alert-bell"));
const showAdminTab = (user) => { document.querySelector(".tabs a[data-view=admin]").hidden = user?.role !== "admin"; };
showAdminTab(session.user());
session.onChange(showAdminTab);
window.addEventListener("hashchange", route);
session.onChange(route); // signing in or out re-renders the current view
route();
