/// The page, as a Mustache template over `ReportPage`. One self-contained file: the style is inline,
/// the charts are inline SVG, the thumbnails `data:` URIs; there is no script, and no URL at all,
/// so it opens offline and fetches nothing.
enum ReportTemplate {
    static let html = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<style>
  body { font-family: system-ui, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222; margin: 0; background: #f4f5f7; }
  header { background: #24374d; color: #fff; padding: 16px 28px; }
  header h1 { margin: 0 0 6px; font-size: 22px; }
  header p { margin: 2px 0; font-size: 13px; color: #d6dde6; }
  main { padding: 8px 28px 40px; max-width: 1500px; }
  section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; margin: 18px 0; padding: 12px 18px 16px; }
  section h2 { font-size: 17px; margin: 4px 0 10px; }
  .figures { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
  .figures svg { border: 1px solid #eceef1; }
  p.caption, p.note { font-size: 13px; color: #555; max-width: 1000px; }
  .notes { background: #fff8e1; border: 1px solid #f0d98c; padding: 6px 14px; font-size: 13px; margin-top: 14px; }
  table { border-collapse: collapse; font-size: 13px; }
  th, td { border-bottom: 1px solid #e3e6ea; padding: 5px 8px; text-align: left; vertical-align: top; }
  th { background: #f0f2f5; }
  td.number { text-align: right; font-variant-numeric: tabular-nums; }
  td.uid { font-family: "DejaVu Sans Mono", monospace; font-size: 11px; word-break: break-all; min-width: 230px; max-width: 330px; }
  td.reasons { max-width: 560px; }
  td.uid .what { font-family: system-ui, sans-serif; color: #888; }
  td.reasons ul { margin: 0; padding-left: 16px; }
  .risk-high { color: #c8372d; font-weight: bold; }
  .risk-medium { color: #a87800; font-weight: bold; }
  .risk-low { color: #2e9e5b; }
  img.thumbnail { display: block; border: 1px solid #ccc; background: #000; }
  .no-image { color: #999; font-size: 12px; }
  .rates { font-size: 15px; margin: 8px 0; }
</style>
</head>
<body>
<header>
  <h1>{{title}}</h1>
  <p>Source: {{source}} · generated {{generatedAt}}</p>
  <p>{{analysed}} series analysed{{#failed}}, {{.}} failed{{/failed}} · model: {{models}}</p>
  <p>Risk thresholds: {{thresholds}}</p>
  <p>Research and triage support only: not a diagnosis. A low risk does not exclude an LSTV.</p>
</header>
<main>
{{#hasNotes}}
<div class="notes"><ul>{{#notes}}<li>{{.}}</li>{{/notes}}</ul></div>
{{/hasNotes}}

{{#riskCounts}}
<section id="{{heading.id}}">
  <h2>1. {{heading.title}}</h2>
  <div class="figures">
    <table>
      <tr><th>risk</th><th>series</th><th>% of analysed</th></tr>
      {{#rows}}<tr><td class="risk-{{risk}}">{{risk}}</td><td class="number">{{count}}</td><td class="number">{{percent}}</td></tr>{{/rows}}
      {{#unclassified}}<tr><td>not classified</td><td class="number">{{.}}</td><td></td></tr>{{/unclassified}}
    </table>
    {{{chart}}}
  </div>
  <p class="rates">Flag rate: <b>{{highRate}}</b> high · <b>{{mediumOrHighRate}}</b> medium or high (of the analysed series).</p>
</section>
{{/riskCounts}}

{{#entropyHistograms}}
<section id="{{id}}">
  <h2>2. {{title}}</h2>
  <div class="figures">{{#entropyCharts}}{{{svg}}}{{/entropyCharts}}</div>
  <p class="caption">Heatmap entropy of each disc level (nats), one shared range and bin width. A diffuse map (high
  entropy) means the network did not settle on the disc.</p>
</section>
{{/entropyHistograms}}

{{#confidenceBoxPlots}}
<section id="{{id}}">
  <h2>3. {{title}}</h2>
  <div class="figures">{{{confidenceChart}}}</div>
  <p class="caption">Box: quartiles and median; whiskers: the furthest values within 1.5 × the interquartile range;
  points: values beyond.</p>
</section>
{{/confidenceBoxPlots}}

{{#l5s1Scatter}}
<section id="{{id}}">
  <h2>4. {{title}}</h2>
  <div class="figures">{{{l5s1Chart}}}{{{suspicionScatterChart}}}</div>
  <p class="caption">Left: L5/S1 peak confidence against L5/S1 entropy, coloured by risk. The risk thresholds are on
  <code>lstv_suspicion</code>, not on the entropy, so they are drawn on the right: <code>lstv_suspicion</code>
  against L5/S1 entropy, with the high and medium thresholds as horizontal lines.</p>
</section>
{{/l5s1Scatter}}

{{#suspicionDistribution}}
<section id="{{id}}">
  <h2>5. {{title}}</h2>
  <div class="figures">{{{suspicionChart}}}{{{lumbarCountChart}}}</div>
  <p class="caption">Left: <code>lstv_suspicion</code> with the risk thresholds. Right: the lumbar count the node
  determined (4, 5 or 6 mobile lumbar vertebrae, or undetermined when the field of view or the maps do not allow it).</p>
</section>
{{/suspicionDistribution}}

{{#topCandidates}}
<section id="{{id}}">
  <h2>6. {{title}}</h2>
  <p class="caption">The {{candidateCount}} series with the highest <code>lstv_suspicion</code> (at most {{candidateLimit}}), highest
  first. Key images come from the node's database (<code>--from-db</code>).</p>
  <table>
    <tr><th>#</th><th>key image</th><th>study / series UID</th><th>accession</th><th>risk</th><th>suspicion</th>
      <th>lumbar count</th><th>junction</th><th>reasons</th>{{#showsLabels}}<th>label</th>{{/showsLabels}}</tr>
    {{#candidates}}
    <tr class="candidate">
      <td class="number">{{rank}}</td>
      <td>{{#thumbnail}}<img class="thumbnail" src="{{.}}" alt="key image">{{/thumbnail}}{{^thumbnail}}<span class="no-image">none</span>{{/thumbnail}}</td>
      <td class="uid"><span class="what">study</span> {{studyInstanceUID}}<br><span class="what">series</span> {{seriesInstanceUID}}</td>
      <td>{{accessionNumber}}{{^accessionNumber}}—{{/accessionNumber}}</td>
      <td class="risk-{{risk}}">{{risk}}</td>
      <td class="number">{{suspicion}}</td>
      <td class="number">{{lumbarCount}}</td>
      <td>{{junction}}</td>
      <td class="reasons"><ul>{{#reasons}}<li>{{.}}</li>{{/reasons}}</ul></td>
      {{#showsLabels}}<td>{{label}}</td>{{/showsLabels}}
    </tr>
    {{/candidates}}
  </table>
</section>
{{/topCandidates}}

{{#levelComparison}}
<section id="{{id}}">
  <h2>7. {{title}}</h2>
  <table>
    <tr><th>level</th><th>peak confidence</th><th>entropy (nats)</th><th>spatial entropy</th></tr>
    {{#levelRows}}<tr><td>{{level}}</td><td class="number">{{confidence}}</td><td class="number">{{entropy}}</td><td class="number">{{spatialEntropy}}</td></tr>{{/levelRows}}
  </table>
  <p class="caption">Mean ± sample standard deviation over the analysed series.</p>
</section>
{{/levelComparison}}

{{#labelPerformance}}
<section id="{{id}}">
  <h2>8. {{title}}</h2>
  {{#labels}}
  <p>Labels: {{source}}, joined on <code>{{key}}</code>: {{matched}} series labelled ({{positives}} LSTV, {{negatives}} without){{#unmatchedLabels}}; {{.}} labels matched no series{{/unmatchedLabels}}.</p>
  {{#problem}}<p class="note">{{.}}</p>{{/problem}}
  {{#rocAUC}}<p class="rates">ROC AUC <b>{{.}}</b> · average precision (PR AUC) <b>{{averagePrecision}}</b></p>{{/rocAUC}}
  {{#operatingPoint}}<p>{{.}}</p>{{/operatingPoint}}
  <div class="figures">{{{rocChart}}}{{{prChart}}}</div>
  {{/labels}}
  {{^labels}}<p class="note">Labels were not given: run with <code>--labels FILE.csv</code> (a key column and <code>lstv</code> 0/1) for ROC and precision–recall curves.</p>{{/labels}}
</section>
{{/labelPerformance}}
</main>
</body>
</html>
"""#
}
