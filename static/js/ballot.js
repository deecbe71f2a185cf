// Progressive enhancement of the ballot: a running tally as the voter picks, and a clear
// pending state on the Vote button. The server checks every rule again; without this file
// the pages work the same, only without the live summary.
(function () {
  "use strict";

  function formatMoney(cents, currency, locale) {
    try {
      return new Intl.NumberFormat(locale, {
        style: "currency", currency: currency,
        maximumFractionDigits: cents % 100 === 0 ? 0 : 2,
      }).format(cents / 100);
    } catch (e) {
      return (cents / 100).toFixed(2) + " " + currency;
    }
  }

  function setUpTally(form) {
    var texts = document.getElementById("tally-texts");
    var box = document.getElementById("tally");
    if (!texts || !box) { return; }
    var d = form.dataset;
    var t = texts.dataset;
    var budget = parseInt(d.budget, 10);

    function update() {
      var count = 0, money = 0, points = 0;
      if (d.kind === "points") {
        form.querySelectorAll("input[type=number]").forEach(function (input) {
          var value = parseInt(input.value, 10);
          if (value > 0) {
            count += 1; points += value; money += parseInt(input.dataset.cost, 10);
          }
        });
      } else {
        form.querySelectorAll("input[type=checkbox][name=choice]").forEach(function (input) {
          if (input.checked) { count += 1; money += parseInt(input.dataset.cost, 10); }
        });
      }
      box.querySelector("[data-tally=count]").textContent = t.count.replace("{count}", count);
      // The category navigation says how many are chosen in each (also out of view).
      document.querySelectorAll("[data-chosen]").forEach(function (line) {
        var n = 0, group = document.getElementById(line.dataset.chosen);
        if (group) {
          group.querySelectorAll("input").forEach(function (input) {
            if (input.type === "checkbox" ? input.checked : parseInt(input.value, 10) > 0) {
              n += 1;
            }
          });
        }
        line.textContent = " · " + t.count.replace("{count}", n);
        line.hidden = false;
      });
      var moneyLine = box.querySelector("[data-tally=money]");
      if (moneyLine) {
        moneyLine.textContent = t.money.replace("{money}",
          formatMoney(money, d.currency, d.locale));
      }
      var pointsLine = box.querySelector("[data-tally=points]");
      if (pointsLine) { pointsLine.textContent = t.points.replace("{points}", points); }
      var advice = t.ok;
      var min = parseInt(d.min, 10), max = parseInt(d.max, 10);
      if (d.kind === "approval" && max && count > max) { advice = t.tooMany; }
      else if (d.kind === "approval" && count < min) { advice = t.tooFew; }
      else if (d.kind === "knapsack" && money > budget) { advice = t.overBudget; }
      else if (d.kind === "points" && points > parseInt(d.points, 10)) { advice = t.tooMany; }
      else if (count === 0) { advice = t.tooFew; }
      box.querySelector("[data-tally=advice]").textContent = advice;
      box.classList.toggle("tally-problem", advice !== t.ok);
    }

    box.hidden = false;
    form.addEventListener("input", update);
    form.addEventListener("change", update);
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
