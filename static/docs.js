// Swagger UI for /openapi.json, from the vendored swagger-ui-dist (scripts/vendor_docs.py): no CDN.
"use strict";

// The document's sections without endpoints (tags marked x-traitTag: the limits, the error codes)
// are ReDoc's pages. Swagger UI would print each whole above the endpoints; its page links to them.
function withoutSections(response) {
  if (response.url.endsWith("/openapi.json") && response.ok) {
    const spec = JSON.parse(response.text);
    spec.tags = (spec.tags || []).filter((tag) => !tag["x-traitTag"]);
    response.text = JSON.stringify(spec);
  }
  return response;
}

window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: false,   // its links sit inside the buttons that open operations: a control in a control (axe)
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,   // no badge fetched from swagger.io
  tryItOutEnabled: false,
  responseInterceptor: withoutSections,
});
