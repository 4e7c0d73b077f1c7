// Swagger UI for /openapi.json, from the vendored swagger-ui-dist (scripts/vendor_docs.py): no CDN.
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: false,   // its links sit inside the buttons that open operations: a control in a control (axe)
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,   // no badge fetched from swagger.io
  tryItOutEnabled: false,
});
