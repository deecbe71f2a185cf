// Progressive enhancement of the ballot: a running tally as the voter picks, and a clear
// pending state on the Vote button. The server checks every rule again; without this file
// the pages work the same, only without the live summary.
//
// The tally's rules and words come from the server (the JSON block #tally-rules, made by
// pb_vote/blueprints/voting/live_tally.py): `check` below makes the checks of
// pb_vote/services/ballot_rules.py `normalize`, one for one and in the same order, so the
// tally says what the server would say of the same choices, in the voter's language.
(function () {
  "use strict";

  // Refusals that ask the voter to take something back; the others ask for more.
  var PROBLEMS = ["bad_value", "too_many", "over_budget", "too_many_points_each",
                  "too_many_points"];

  // Money formatted like the server's samples of 1 234 567,89 and 1 234 567 (its grouping,
  // decimal sign and currency, in the voter's language).
  function moneyFormatter(samples) {
    return function (cents) {
      var sample = cents % 100 ? samples.cents : samples.whole;
      var found = /1(\D*)234(?:\1)567(?:(\D+)89)?/.exec(sample);
      if (!found) { return (cents / 100).toFixed(2); }
      var digits = String(Math.floor(cents / 100))
        .replace(/\B(?=(\d{3})+(?!\d))/g, found[1]);
      if (found[2] !== undefined) {
        digits += found[2] + String(cents % 100).padStart(2, "0");
      }
      return sample.replace(found[0], function () { return digits; });
    };
  }

  function fill(text, figures) {
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(figures, name) ? figures[name] : all;
    });
  }

  // What the voter has given so far: the proposals with a positive whole number, their
  // points and cost (also the figures the messages name).
  function figuresOf(rules, entries) {
    var figures = {count: 0, points: 0, spent: 0};
    entries.forEach(function (entry) {
      var value = /^\d+$/.test(entry[1].trim()) ? parseInt(entry[1], 10) : 0;
      if (value > 0) {
        figures.count += 1; figures.points += value; figures.spent += rules.costs[entry[0]] || 0;
      }
    });
    figures.total = figures.points;
    return figures;
  }

  // ballot_form.parse_choices, then ballot_rules.normalize: the code of the first rule
  // the choices break, or null. `entries` are [proposal id, the text the form would send],
  // in the form's order.
  function check(rules, entries) {
    var values = [], i;
    for (i = 0; i < entries.length; i += 1) {
      var text = entries[i][1].trim() || "0";
      if (rules.kind === "points" && !/^-?\d+$/.test(text)) { return "bad_value"; }
      values.push(parseInt(text, 10));
    }
    if (values.some(function (value) { return value < 0; })) { return "bad_value"; }
    var f = figuresOf(rules, entries);
    if (!f.count) {
      return rules.kind === "approval" && (rules.approval_min || 0) > 1 ? "too_few" : "empty";
    }
    if (rules.kind === "points") {
      if (rules.points_max_per_proposal !== null && values.some(function (value) {
        return value > rules.points_max_per_proposal;
      })) { return "too_many_points_each"; }
      if (rules.points_total !== null && f.points > rules.points_total) {
        return "too_many_points";
      }
    } else if (rules.kind === "approval") {
      if (rules.approval_min !== null && f.count < rules.approval_min) { return "too_few"; }
      if (rules.approval_max !== null && f.count > rules.approval_max) { return "too_many"; }
    } else {
      if (f.spent > rules.budget) { return "over_budget"; }
      if (f.spent < rules.minimum_spend) { return "under_minimum_spend"; }
    }
    return null;
  }

  function entriesOf(root, kind) {
    var entries = [];
    if (kind === "points") {
      root.querySelectorAll("input[type=number][name^='points-']").forEach(function (input) {
        entries.push([input.name.slice("points-".length), input.value]);
      });
    } else {
      root.querySelectorAll("input[type=checkbox][name=choice]").forEach(function (input) {
        entries.push([input.value, input.checked ? "1" : "0"]);
      });
    }
    return entries;
  }

  // Keep focused controls clear of the sticky tally, however tall it is on this screen.
  function keepClearOf(box) {
    function measure() {
      document.documentElement.style.setProperty("--tally-height", box.offsetHeight + "px");
    }
    if (window.ResizeObserver) { new ResizeObserver(measure).observe(box); }
    window.addEventListener("resize", measure);
    measure();
  }

  function setUpTally(form) {
    var source = document.getElementById("tally-rules");
    var box = document.getElementById("tally");
    if (!source || !box) { return; }
    var tally = JSON.parse(source.textContent);
    var rules = tally.rules;
    var money = moneyFormatter(tally.money);
    // Start neutral: nothing is wrong with a ballot not yet begun. With choices already
    // made the tally speaks at once; after a refusal, the server's words stand until the
    // voter changes something (a typed value it could not read is not shown again).
    var refusal = document.getElementById("ballot-error");
    var touched = !!refusal;
    var changed = false;

    function update() {
      var entries = entriesOf(form, rules.kind);
      var code = check(rules, entries);
      var figures = figuresOf(rules, entries);
      box.querySelector("[data-tally=line]").textContent = fill(tally.line, {
        count: figures.count, points: figures.points, money: money(figures.spent),
      });
      // The category navigation says how many are chosen in each (also out of view).
      document.querySelectorAll("[data-chosen]").forEach(function (line) {
        var group = document.getElementById(line.dataset.chosen);
        if (!group) { return; }
        var n = figuresOf(rules, entriesOf(group, rules.kind)).count;
        line.textContent = " · " + fill(tally.chosen, {count: n});
        line.hidden = false;
      });
      var started = touched || figures.count > 0 || code === "bad_value";
      var advice = "";
      if (started) {
        advice = code === null ? tally.ok : fill(tally.messages[code] || "", {
          count: figures.count, total: figures.total, spent: money(figures.spent),
        });
      }
      if (refusal && !changed) {
        advice = refusal.textContent.trim();
        code = "refused";
      }
      var problem = code === "refused" || PROBLEMS.indexOf(code) >= 0;
      box.querySelector("[data-tally=advice]").textContent = advice;
      box.classList.toggle("tally-problem", started && problem);
      box.classList.toggle("tally-to-do", started && code !== null && !problem);
      box.classList.toggle("tally-ok", started && code === null);
    }

    function touch() { touched = true; changed = true; update(); }

    box.hidden = false;
    form.addEventListener("input", touch);
    form.addEventListener("change", touch);
    keepClearOf(box);
    update();
  }

  function setUpPending(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector(".vote-button");
      if (!button || button.disabled) { return; }
      // Let this submission through, then show that it is on its way; a second click
      // would only record the same ballot again, but it should not be needed.
      window.setTimeout(function () {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
        button.textContent = button.dataset.pending;
      }, 0);
    });
  }

  var ballot = document.getElementById("ballot");
  if (ballot) { setUpTally(ballot); }
  document.querySelectorAll(".vote-form").forEach(setUpPending);
}());
