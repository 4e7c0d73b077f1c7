// Swagger UI for /openapi.json, from the vendored swagger-ui-dist (scripts/vendor_docs.py): no CDN.
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,   // no badge fetched from swagger.io
  tryItOutEnabled: false,
});
