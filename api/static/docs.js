// The offline API reference: renders /openapi.json, with a small "try it" form per operation.
"use strict";

const tokenInput = document.getElementById("token");
tokenInput.value = localStorage.getItem("nagovori-token") || "";
tokenInput.addEventListener("change", () => localStorage.setItem("nagovori-token", tokenInput.value));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  }
  return node;
}

function resolve(doc, schema) {
  if (schema && schema.$ref) return resolve(doc, doc.components.schemas[schema.$ref.split("/").pop()]);
  return schema || {};
}

function typeOf(doc, schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.anyOf) return schema.anyOf.map((s) => typeOf(doc, s)).join(" | ");
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.type === "array") return `${typeOf(doc, schema.items)}[]`;
  return schema.format ? `${schema.type} (${schema.format})` : schema.type || "any";
}

function example(doc, schema, depth = 0) {
  schema = resolve(doc, schema);
  if (depth > 4) return null;
  if (schema.examples) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return example(doc, schema.anyOf.find((s) => s.type !== "null") || {}, depth + 1);
  if (schema.type === "object" || schema.properties) {
    const out = {};
    for (const name of schema.required || Object.keys(schema.properties || {})) {
      out[name] = example(doc, schema.properties[name], depth + 1);
    }
    return out;
  }
  return { string: "string", integer: 0, number: 0, boolean: false, array: [] }[schema.type] ?? null;
}

function fields(doc, schema) {
  schema = resolve(doc, schema);
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  return el("table", {},
    el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, "")),
    Object.entries(props).map(([name, prop]) => el("tr", {},
      el("td", {}, el("code", {}, name), required.has(name) ? " *" : ""),
      el("td", {}, el("code", {}, typeOf(doc, prop))),
      el("td", { class: "muted" }, prop.description || (resolve(doc, prop).description || "").split("\n")[0]),
    )));
}

function tryIt(path, method, op, doc) {
  const params = (op.parameters || []).map((p) => [p, el("input", { placeholder: p.name })]);
  const json = op.requestBody && op.requestBody.content["application/json"];
  const body = json ? el("textarea", {}, JSON.stringify(example(doc, json.schema), null, 2)) : null;
  const output = el("pre", {}, "");
  const send = el("button", {}, "Send");
  send.addEventListener("click", async () => {
    let url = path;
    const query = new URLSearchParams();
    for (const [p, input] of params) {
      if (!input.value) continue;
      if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(input.value));
      else query.append(p.name, input.value);
    }
    if ([...query].length) url += `?${query}`;
    const headers = tokenInput.value ? { Authorization: `Bearer ${tokenInput.value}` } : {};
    if (body) headers["Content-Type"] = "application/json";
    output.textContent = "…";
    const response = await fetch(url, { method: method.toUpperCase(), headers, body: body ? body.value : undefined });
    const type = response.headers.get("Content-Type") || "";
    const text = type.startsWith("audio/") ? `(${type}, ${(await response.blob()).size} bytes)` : await response.text();
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON */ }
    output.textContent = `${response.status} ${response.statusText}\n\n${shown}`;
  });
  return el("details", {}, el("summary", {}, "Try it"),
    params.map(([p, input]) => el("div", {}, el("code", {}, `${p.name} (${p.in})`), " ", input)),
    body || "", el("div", {}, send), output);
}

function operation(doc, path, method, op) {
  const id = op.operationId;
  const section = el("section", { class: "op", id },
    el("h3", {}, el("span", { class: `method ${method}` }, method.toUpperCase()), el("code", {}, path)),
    el("p", {}, el("strong", {}, op.summary)),
    op.description ? el("p", {}, op.description) : "");
  if (op.parameters && op.parameters.length) {
    section.append(el("h4", {}, "Parameters"), el("table", {},
      op.parameters.map((p) => el("tr", {},
        el("td", {}, el("code", {}, p.name), p.required ? " *" : ""),
        el("td", {}, p.in), el("td", {}, el("code", {}, typeOf(doc, p.schema))),
        el("td", { class: "muted" }, p.description || "")))));
  }
  if (op.requestBody) {
    for (const [type, media] of Object.entries(op.requestBody.content)) {
      section.append(el("h4", {}, `Request body (${type})`));
      if (media.schema.$ref || media.schema.properties) section.append(fields(doc, media.schema));
    }
  }
  section.append(el("h4", {}, "Responses"), el("table", {},
    Object.entries(op.responses).map(([status, answer]) => el("tr", {},
      el("td", {}, el("code", {}, status)),
      el("td", {}, answer.description),
      el("td", {}, Object.entries(answer.content || {}).map(([type, media]) =>
        el("div", {}, el("code", {}, `${type}: ${typeOf(doc, media.schema)}`))))))));
  section.append(tryIt(path, method, op, doc));
  return section;
}

async function main() {
  const doc = await (await fetch("/openapi.json")).json();
  const nav = document.getElementById("nav");
  const main = document.getElementById("main");
  main.replaceChildren(el("h2", {}, `${doc.info.title} ${doc.info.version}`), el("p", {}, doc.info.description));
  const byTag = new Map();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = (op.tags || ["Other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([path, method, op]);
    }
  }
  for (const [tag, ops] of byTag) {
    nav.append(el("h3", {}, tag));
    main.append(el("h2", {}, tag));
    for (const [path, method, op] of ops) {
      nav.append(el("a", { href: `#${op.operationId}` }, `${method.toUpperCase()} ${path}`));
      main.append(operation(doc, path, method, op));
    }
  }
  const schemas = el("section", {}, el("h2", { id: "schemas" }, "Schemas"));
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    schemas.append(el("h3", { id: `schema-${name}` }, name), el("p", { class: "muted" }, schema.description || ""),
      fields(doc, schema));
  }
  nav.append(el("h3", {}, "Schemas"), el("a", { href: "#schemas" }, "All schemas"));
  main.append(schemas);
}

main().catch((error) => {
  document.getElementById("main").textContent = `Could not load /openapi.json: ${error}`;
});
