import Mustache

/// `GET /upload`: pick or drop a folder of DICOM files; a small inline script sends each file to
/// STOW-RS (`/dicomweb/studies`, same origin, the session cookie and its CSRF token), lists each
/// file as stored or failed, then polls `/api/v1/series/{uid}` until the analysis is done and links
/// to the series page. The only page that needs JavaScript.
struct UploadPage {
    var csrf: String

    static let template = try! MustacheTemplate(string: #"""
    <section>
      <h2>Upload a study</h2>
      <p class="muted">Choose a folder (or files) of DICOM instances, or drop them below. Each file is stored as if sent by C-STORE; the analysis follows once the series is complete.</p>
      <div id="drop">
        <p><label>A folder: <input id="folder" type="file" multiple webkitdirectory></label></p>
        <p><label>Files: <input id="files" type="file" multiple></label></p>
        <p class="muted">… or drop files here</p>
      </div>
      <p id="summary"></p>
      <div id="analyses"></div>
      <table id="results"><tr><th>file</th><th>result</th></tr></table>
    </section>
    <script>
    (function () {
      const csrf = "{{csrf}}";
      const results = document.getElementById("results"), summary = document.getElementById("summary");
      const analyses = document.getElementById("analyses");
      function row(name, text, cls) {
        const tr = results.insertRow(), a = tr.insertCell(), b = tr.insertCell();
        a.textContent = name; b.textContent = text; b.className = cls; return tr;
      }
      async function send(file) {
        const boundary = "lstv-" + Math.random().toString(16).slice(2);
        const body = new Blob(["--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n", file, "\r\n--" + boundary + "--\r\n"]);
        const r = await fetch("/dicomweb/studies", {method: "POST", credentials: "same-origin", body: body,
          headers: {"Content-Type": 'multipart/related; type="application/dicom"; boundary=' + boundary, "X-CSRF-Token": csrf}});
        let json = {};
        try { json = await r.json(); } catch (e) {}
        const stored = (json["00081199"] || {}).Value || [];
        if (r.ok && stored.length > 0) {
          const url = ((stored[0]["00081190"] || {}).Value || [""])[0];
          const m = url.match(/\/series\/([0-9.]+)\/instances\//);
          return {ok: true, series: m ? m[1] : null};
        }
        const failed = ((json["00081198"] || {}).Value || [])[0];
        const reason = failed ? "failed (status 0x" + failed["00081197"].Value[0].toString(16).toUpperCase() + ")" : "failed (" + (json.error || "HTTP " + r.status) + ")";
        return {ok: false, reason: reason};
      }
      function watch(uid) {
        const p = document.createElement("p");
        p.className = "analysis"; p.textContent = "Series " + uid + ": waiting for the analysis…";
        analyses.appendChild(p);
        async function poll() {
          try {
            const r = await fetch("/api/v1/series/" + encodeURIComponent(uid), {credentials: "same-origin"});
            if (r.ok) {
              const s = await r.json();
              const done = (s.analyses || []).find(a => a.state === "done");
              const failed = (s.analyses || []).find(a => a.state === "failed");
              if (done) {
                p.textContent = "Series " + uid + " analysed: ";
                const a = document.createElement("a");
                a.href = "/series/" + encodeURIComponent(uid); a.id = "analysis-link"; a.textContent = "open the series page";
                p.appendChild(a); return;
              }
              if (failed) { p.textContent = "Series " + uid + ": the analysis failed: " + (failed.error || ""); p.className = "error"; return; }
              if (s.route === "ignored") { p.textContent = "Series " + uid + " is not analysed (" + (s.reason || "not routed") + ")."; return; }
              p.textContent = "Series " + uid + ": " + s.state + ", waiting for the analysis…";
            }
          } catch (e) {}
          setTimeout(poll, 1000);
        }
        poll();
      }
      async function upload(files) {
        let ok = 0, bad = 0;
        const series = new Set();
        for (const file of files) {
          const tr = row(file.webkitRelativePath || file.name, "sending…", "");
          let result;
          try { result = await send(file); } catch (e) { result = {ok: false, reason: "failed (" + e + ")"}; }
          tr.cells[1].textContent = result.ok ? "stored" : result.reason;
          tr.cells[1].className = result.ok ? "state-sent stored" : "error failed";
          if (result.ok) { ok++; if (result.series) series.add(result.series); } else { bad++; }
          summary.textContent = ok + " stored, " + bad + " failed";
        }
        summary.id = "summary"; summary.dataset.done = "true";
        series.forEach(watch);
      }
      for (const id of ["folder", "files"]) {
        document.getElementById(id).addEventListener("change", e => upload(Array.from(e.target.files)));
      }
      const drop = document.getElementById("drop");
      drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
      drop.addEventListener("dragleave", () => drop.classList.remove("over"));
      drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); upload(Array.from(e.dataTransfer.files)); });
    })();
    </script>
    """#)
}
