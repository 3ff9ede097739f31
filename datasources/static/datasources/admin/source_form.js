/* The data source form, type-aware: show only the chosen type's fields, fill its default port,
   show SSH fields only when the tunnel is ticked, offer the type's TLS modes, read a chosen PEM file
   into its field, test the page's values (its steps as a checklist), refresh busy panels.
   Without this script the full form still works; hidden fields are disabled, so not sent. */
(function () {
  "use strict";
  var CONNECTION = ["host", "port", "database_name", "schema_name", "connection_string", "file_path", "upload_file"];

  function rows(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }

  function setShown(row, shown) {
    if (!row) { return; }
    row.hidden = !shown;
    row.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.dataset.rgFixed) { return; }
      el.disabled = !shown;
    });
  }

  function row(name) { return document.querySelector(".form-row.field-" + name); }

  function initForm() {
    var data = document.getElementById("rg-type-layout");
    var typeSelect = document.getElementById("id_type");
    if (!data || !typeSelect) { return; }
    var layouts = JSON.parse(data.textContent);
    var tunnel = document.getElementById("id_use_ssh_tunnel");
    var port = document.getElementById("id_port");
    var sshFieldset = document.querySelector("fieldset.rg-ssh");
    var tlsFieldset = document.querySelector("fieldset.rg-tls");
    var tlsMode = document.getElementById("id_tls_mode");
    var tlsType = typeSelect.value;
    var previous = typeSelect.value;
    if (typeSelect.disabled) { typeSelect.dataset.rgFixed = "1"; }
    rows(".form-row label.required").forEach(function (label) { label.dataset.rgRequired = "1"; });

    function markRequired(layout) {
      CONNECTION.forEach(function (name) {
        var label = document.querySelector(".form-row.field-" + name + " label");
        if (label && !label.dataset.rgRequired) {
          label.classList.toggle("required", !!layout && layout.required.indexOf(name) >= 0);
        }
      });
    }

    function hideEmptyFieldsets() {
      rows("fieldset.module").forEach(function (set) {
        var all = set.querySelectorAll(".form-row");
        if (!all.length) { return; }
        var shown = Array.prototype.some.call(all, function (r) { return !r.hidden; });
        if (!set.classList.contains("rg-ssh")) { set.hidden = !shown; }
      });
    }

    function apply() {
      var layout = layouts[typeSelect.value];
      CONNECTION.forEach(function (name) {
        var wanted = name === "upload_file" ? "file_path" : name;
        setShown(row(name), !layout || layout.fields.indexOf(wanted) >= 0);
      });
      markRequired(layout);
      rows(".form-row[class*='field-credential_']").forEach(function (r) {
        if ((sshFieldset && sshFieldset.contains(r)) || (tlsFieldset && tlsFieldset.contains(r))) { return; }
        var key = (r.className.match(/field-credential_(\w+)/) || [])[1];
        setShown(r, !layout || layout.credentials.indexOf(key) >= 0);
      });
      if (sshFieldset) {
        var ssh = !layout || layout.ssh;
        sshFieldset.hidden = !ssh;
        rows("fieldset.rg-ssh .form-row").forEach(function (r) {
          var isToggle = r.classList.contains("field-use_ssh_tunnel");
          setShown(r, ssh && (isToggle || (tunnel && tunnel.checked)));
        });
      }
      if (tlsFieldset) {
        var tls = !layout || layout.tls_modes.length > 0;
        tlsFieldset.hidden = !tls;
        rows("fieldset.rg-tls .form-row").forEach(function (r) { setShown(r, tls); });
        if (layout && tls && tlsMode && !tlsMode.disabled) { showModes(layout); }
      }
      hideEmptyFieldsets();
    }

    // The type's TLS modes, its default marked. A mode somebody chose stays chosen if the new type
    // takes it; the old type's default becomes the new type's (as the port does).
    function showModes(layout) {
      var before = layouts[tlsType];
      var current = before && tlsMode.value === before.tls_default ? "" : tlsMode.value;
      tlsType = typeSelect.value;
      tlsMode.textContent = "";
      layout.tls_modes.forEach(function (mode) {
        var option = document.createElement("option");
        option.value = mode;
        option.textContent = mode === layout.tls_default ? mode + " (default)" : mode;
        tlsMode.appendChild(option);
      });
      tlsMode.value = layout.tls_modes.indexOf(current) >= 0 ? current : layout.tls_default;
    }

    function fillPort() {
      var before = layouts[previous], after = layouts[typeSelect.value];
      if (!port || !after) { previous = typeSelect.value; return; }
      var oldDefault = before && before.default_port !== null ? String(before.default_port) : "";
      if (port.value === "" || port.value === oldDefault) {
        port.value = after.default_port === null ? "" : String(after.default_port);
      }
      previous = typeSelect.value;
    }

    typeSelect.addEventListener("change", function () { fillPort(); apply(); });
    if (tunnel) { tunnel.addEventListener("change", apply); }
    if (!typeSelect.disabled && port && port.value === "" && layouts[typeSelect.value]) { fillPort(); }
    apply();
  }

  // A chosen .pem/.crt file is read into its textarea (to see and edit it) and not uploaded as well;
  // without this script the server reads the upload itself.
  function initPemFiles() {
    rows("input.rg-pem-file").forEach(function (input) {
      var part = input.closest(".rg-tls-part");
      var area = part && part.querySelector("textarea.rg-pem");
      var note = part && part.querySelector(".rg-upload-note");
      if (!area || !window.FileReader) { return; }
      input.addEventListener("change", function () {
        var file = input.files[0];
        if (!file) { return; }
        var reader = new FileReader();
        reader.onload = function () {
          area.value = reader.result;
          input.value = "";
          if (note) { note.textContent = "Read " + file.name + " into the field above."; }
        };
        reader.readAsText(file);
      });
    });
  }

  function showResult(box, result) {
    box.textContent = "";
    box.className = "rg-test-result rg-" + result.status;
    var head = document.createElement("strong");
    var body = document.createElement("div");
    if (result.status === "succeeded") {
      head.textContent = "✓ Connection succeeded in " + result.latency_ms + " ms";
      body.textContent = result.server_version ? "Server: " + result.server_version : "";
    } else if (result.status === "failed") {
      head.textContent = "✗ " + result.error_code;
      body.textContent = result.message;
    } else {
      head.textContent = "Fix these first:";
      Object.keys(result.errors || {}).forEach(function (field) {
        result.errors[field].forEach(function (message) {
          var line = document.createElement("div");
          line.textContent = (field === "__all__" ? "" : field.replace("credential_", "") + ": ") + message;
          body.appendChild(line);
        });
      });
    }
    box.appendChild(head);
    box.appendChild(body);
    box.appendChild(checklist(result));
  }

  // The test's steps as a checklist (a failed step with its message), then what the TLS
  // handshake achieved: the same shape as the saved test's message (admin/views.py steps_html).
  function checklist(result) {
    var wrapper = document.createElement("div");
    var list = document.createElement("ul");
    list.className = "rg-steps";
    var marks = {passed: "✓", failed: "✗", skipped: "–"};
    (result.steps || []).forEach(function (step) {
      var item = document.createElement("li");
      var time = document.createElement("span");
      item.className = "rg-step rg-step-" + step.status;
      item.textContent = marks[step.status] + " " + step.name + " ";
      time.className = "rg-muted";
      time.textContent = step.status === "skipped" ? "skipped" : step.duration_ms + " ms";
      item.appendChild(time);
      if (step.status === "failed" && step.message && step.message !== result.message) {
        item.appendChild(document.createTextNode(": " + step.message));  // the result's own is shown above
      }
      list.appendChild(item);
    });
    if (list.children.length) { wrapper.appendChild(list); }
    if (result.tls) {
      var tls = document.createElement("div");
      var certificate = result.tls.server_certificate;
      tls.className = "rg-tls-summary";
      tls.textContent = "TLS: " + (result.tls.encrypted ? (result.tls.protocol || "") + ", encrypted, " +
        (result.tls.verified ? "verified" : "not verified") : "not encrypted") +
        (certificate ? "; server certificate " + certificate.subject + ", issued by " + certificate.issuer +
          ", " + certificate.days_left + " days left" : "");
      wrapper.appendChild(tls);
    }
    return wrapper;
  }

  function initTestButton() {
    var wrapper = document.getElementById("rg-test");
    if (!wrapper) { return; }
    wrapper.hidden = false;
    var button = document.getElementById("rg-test-button");
    var box = document.getElementById("rg-test-result");
    button.addEventListener("click", function () {
      var form = wrapper.closest("form");
      var values = new FormData(form);
      values.delete("upload_file");
      button.disabled = true;
      box.className = "rg-test-result rg-running";
      box.textContent = "Testing…";
      fetch(wrapper.dataset.url, {
        method: "POST", body: values, credentials: "same-origin",
        headers: {"X-CSRFToken": values.get("csrfmiddlewaretoken"), "Accept": "application/json"}
      }).then(function (response) {
        return response.json().catch(function () {
          return {status: "invalid", errors: {__all__: ["The server answered " + response.status + "."]}};
        });
      }).then(function (result) { showResult(box, result); })
        .catch(function () { showResult(box, {status: "invalid", errors: {__all__: ["The server could not be reached."]}}); })
        .finally(function () { button.disabled = false; });
    });
  }

  function initPanels() {
    var container = document.getElementById("rg-panels");
    if (!container) { return; }
    function reload(section) {
      var url = container.dataset.panelUrl.replace("KEY", section.dataset.panelKey);
      return fetch(url, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null) { section.querySelector(".rg-panel-body").innerHTML = html; }
          return html !== null;
        });
    }
    function schedule(section) {
      var content = section.querySelector("[data-refresh]");
      if (!content) { return; }
      window.setTimeout(function () {
        reload(section).then(function (ok) {
          if (!ok) { return; }
          if (section.querySelector("[data-refresh]")) { schedule(section); return; }
          // The work it watched has finished: the other panels may show its results.
          rows(".rg-panel").forEach(function (other) { if (other !== section) { reload(other); } });
        });
      }, 1000 * Number(content.dataset.refresh));
    }
    rows(".rg-panel").forEach(schedule);
  }

  document.addEventListener("DOMContentLoaded", function () {
    initForm();
    initPemFiles();
    initTestButton();
    initPanels();
  });
})();
