/* tgscope web app: draws the charts of a page and reveals spoilers.
 * No inline script anywhere: chart data comes from the page's JSON twins (fetched) or from
 * inert <script type="application/json"> blocks, never from code in the page. */
"use strict";

(function () {
  const loaded = new Map();

  function dataFor(source) {
    if (source.startsWith("#")) {
      const block = document.getElementById(source.slice(1));
      return Promise.resolve(block ? JSON.parse(block.textContent) : null);
    }
    if (!loaded.has(source)) {
      loaded.set(source, fetch(source, { headers: { Accept: "application/json" } }).then((r) => {
        if (!r.ok) throw new Error(source + ": HTTP " + r.status);
        return r.json();
      }));
    }
    return loaded.get(source);
  }

  const palette = ["#2a9ef1", "#f5a623", "#7ed321", "#bd10e0", "#d0021b", "#4a90e2", "#50e3c2",
    "#8b572a", "#417505", "#9013fe", "#b8e986", "#f8e71c"];
  const base = { color: palette, animation: false, grid: { left: 56, right: 24, top: 36, bottom: 48 },
    tooltip: { trigger: "axis" } };

  function pairs(xs, ys) { return xs.map((x, i) => [x, ys[i]]); }
  function line(name, points, extra) {  // dots where there are few points, else a plain line
    return { name: name, type: "line", showSymbol: points.length < 60, data: points, ...extra };
  }

  const kinds = {
    "stacked-weeks": (d) => ({
      ...base,
      legend: { type: "scroll", top: 0 },
      xAxis: { type: "category", data: d.weeks },
      yAxis: { type: "value", name: "posts", minInterval: 1 },
      dataZoom: d.weeks.length > 60 ? [{ type: "slider", height: 16, bottom: 4 }] : [],
      series: Object.entries(d.series).map(([name, counts]) => ({
        name: name, type: "bar", stack: "posts", data: counts, large: true })),
    }),
    "stacked-months": (d) => ({  // an events timeline: meetings per month by mode
      ...base,
      legend: { type: "scroll", top: 0 },
      xAxis: { type: "category", data: d.months },
      yAxis: { type: "value", name: "meetings", minInterval: 1 },
      dataZoom: d.months.length > 60 ? [{ type: "slider", height: 16, bottom: 4 }] : [],
      series: d.series.map((s) => ({ name: s.mode, type: "bar", stack: "meetings", data: s.counts })),
    }),
    "posts-per-day": (d) => ({
      ...base,
      xAxis: { type: "time", axisLabel: { hideOverlap: true } }, yAxis: { type: "value", name: "posts", minInterval: 1 },
      series: [{ name: "posts", type: "bar", data: pairs(d.days, d.posts), large: true }],
    }),
    "views-per-post": (d) => ({
      ...base,
      xAxis: { type: "time", axisLabel: { hideOverlap: true } }, yAxis: { type: "value", name: "views" },
      series: [line("mean views per post", pairs(d.days, d.views).filter((p) => p[1] !== null))],
    }),
    "reactions-per-post": (d) => ({
      ...base,
      xAxis: { type: "time", axisLabel: { hideOverlap: true } }, yAxis: { type: "value", name: "reactions" },
      series: [line("mean reactions per post",
        pairs(d.days, d.reactions).filter((p) => p[1] !== null))],
    }),
    "views-growth": (d) => {
      const e = d.engagement || {};
      const ages = ["1 h", "24 h", "7 days", "now (median)"];
      return {
        ...base,
        tooltip: { trigger: "item" },
        xAxis: { type: "category", data: ages },
        yAxis: { type: "value", name: "views" },
        series: [{ name: "median views", type: "bar",
          data: [e.views_1h, e.views_24h, e.views_7d, e.views_median].map((v) => (v === null || v === undefined ? 0 : v)) }],
      };
    },
    heatmap: (d) => {
      const cells = d.heatmap.cells.map(([day, hour, n]) => [hour, day, n]);
      const most = cells.reduce((m, c) => Math.max(m, c[2]), 1);
      return {
        ...base,
        tooltip: { position: "top" },
        grid: { left: 56, right: 24, top: 12, bottom: 84 },
        xAxis: { type: "category", data: [...Array(24).keys()].map(String), name: "hour" },
        yAxis: { type: "category", data: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] },
        visualMap: { min: 0, max: most, calculable: true, orient: "horizontal", left: "center",
          bottom: 0, itemHeight: 120, inRange: { color: ["#eef6fd", "#2a9ef1", "#0b3d66"] } },
        series: [{ name: "posts", type: "heatmap", data: cells }],
      };
    },
    network: (d) => {
      const most = d.nodes.reduce((m, n) => Math.max(m, n.posts), 1);
      return {
        animation: false,
        tooltip: {},
        series: [{
          type: "graph", layout: "force", roam: true, draggable: true,
          force: { repulsion: 220, edgeLength: [60, 180], gravity: 0.08 },
          label: { show: true, position: "right", fontSize: 11 },
          edgeSymbol: ["none", "arrow"], edgeSymbolSize: 7,
          lineStyle: { color: "source", opacity: 0.5, curveness: 0.15 },
          data: d.nodes.map((n, i) => ({
            name: n.name, value: n.posts, symbolSize: 8 + 28 * Math.sqrt(n.posts / most),
            itemStyle: { color: n.archived ? palette[i % palette.length] : "#b0b8c0" },
            archived: n.archived,
          })),
          links: d.edges.map((e) => ({ source: e.source, target: e.target, value: e.count,
            lineStyle: { width: 1 + Math.log2(e.count) } })),
        }],
      };
    },
    observations: (d) => ({
      ...base,
      legend: { top: 0 },
      xAxis: { type: "time", axisLabel: { hideOverlap: true } },
      yAxis: [{ type: "value", name: "views" }, { type: "value", name: "reactions, forwards", minInterval: 1 }],
      series: [
        line("views", d.filter((o) => o.views !== null).map((o) => [o.observed_at, o.views])),
        line("reactions", d.filter((o) => o.reactions.length)
          .map((o) => [o.observed_at, o.reactions.reduce((s, r) => s + r.count, 0)]), { yAxisIndex: 1 }),
        line("forwards", d.filter((o) => o.forwards !== null)
          .map((o) => [o.observed_at, o.forwards]), { yAxisIndex: 1 }),
      ],
    }),
  };

  function draw(element) {
    const kind = kinds[element.dataset.chart];
    if (!kind || typeof echarts === "undefined") return;
    dataFor(element.dataset.source).then((data) => {
      if (!data) return;
      const chart = echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(kind(data));
      if (element.dataset.chart === "network") {  // a channel's node opens the channel
        chart.on("click", (event) => {
          if (event.dataType === "node" && event.data.archived) {
            window.location.href = "/channels/" + encodeURIComponent(event.data.name);
          }
        });
      }
      element.dataset.drawn = "yes";
      window.addEventListener("resize", () => chart.resize());
    }).catch((error) => {
      element.dataset.drawn = "failed";
      element.textContent = "This chart could not be drawn: " + error.message;
    });
  }

  function num(value, digits) {
    return typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: digits }) : "—";
  }

  function fact(list, label, value) {
    const term = document.createElement("dt");
    term.textContent = label;
    const detail = document.createElement("dd");
    detail.textContent = value === null || value === undefined ? "—" : String(value);
    list.append(term, detail);
  }

  function showFacts(element) {  // built with textContent: nothing in the data becomes markup
    dataFor(element.dataset.source).then((data) => {
      const e = data.engagement;
      element.textContent = "";
      if (!e) { element.textContent = "No dated posts."; return; }
      const list = document.createElement("dl");
      fact(list, "posts per day / week", num(e.posts_per_day, 2) + " / " + num(e.posts_per_week, 1));
      fact(list, "views: median / p90", num(e.views_median, 0) + " / " + num(e.views_p90, 0));
      fact(list, "reactions per 1,000 views", num(e.reactions_per_1000_views, 1));
      fact(list, "forwarded by other channels", e.forwards_received);
      element.append(list);
      if (e.outliers.length) {
        const title = document.createElement("h4");
        title.textContent = "Far above its usual reach (modified z-score of log views, by age)";
        const items = document.createElement("ul");
        e.outliers.slice(0, 8).forEach((o) => {
          const item = document.createElement("li");
          const link = document.createElement("a");
          link.href = "/posts/" + o.key.split("/").map(encodeURIComponent).join("/");
          link.textContent = o.key;
          item.append(link, " — " + num(o.views, 0) + " views, score " + num(o.score, 1));
          items.append(item);
        });
        element.append(title, items);
      }
      element.dataset.drawn = "yes";
    }).catch((error) => { element.textContent = "Could not load: " + error.message; });
  }

  function revealSpoilers() {
    document.addEventListener("click", (event) => {
      const spoiler = event.target.closest(".spoiler");
      if (spoiler) spoiler.classList.add("revealed");
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".chart[data-chart]").forEach(draw);
    document.querySelectorAll("[data-facts]").forEach(showFacts);
    revealSpoilers();
  });
})();
