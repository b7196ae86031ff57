"""The dossier columns of one agency, drawn in bulk from one ``numpy`` generator.

:class:`DossierBuilder` draws, in this order (the order is part of the output: the same seed
gives the same data only if every draw happens in the same sequence), the catalogue, then per
dossier: procedure, unit and channel; submission and reception; due date and supplements; end
of processing; status; apology letter; fees, forms, results and flags; personal data; last
update. Dossiers placed exactly on window boundaries are added to the regular ones. The
result is a :class:`Dataset` in submission order; planting and ratings follow in
:mod:`parreport.sandbox.generator`.
"""
from __future__ import annotations

import numpy as np

from ..periods import Window
from . import catalogue as cat
from .dataset import Dataset
from .model import BOUNDARY_KINDS, BoundaryCase, GeneratorConfig
from .organisation import build_procedures, build_units, windows_in_span
from .timecols import DAY, HOUR, NONE, busday, to_secs


class DossierBuilder:
    """Draws the columns step by step; each step reads what earlier steps left on ``self``."""

    def __init__(self, config: GeneratorConfig, rng: np.random.Generator):
        self.cfg, self.rng = config, rng
        self.start = to_secs(config.span_start)
        self.as_of = to_secs(config.extraction_time)
        self.end = min(to_secs(config.span_end), self.as_of)

    def _office(self, days: np.ndarray, lo=7 * HOUR + 30 * 60, hi=17 * HOUR) -> np.ndarray:
        """Instants within office hours on the given day numbers."""
        return days * DAY + self.rng.integers(lo, hi, size=days.shape[0])

    def build(self) -> tuple[Dataset, set[int]]:
        """The dataset (columns only, nothing planted yet) and its boundary rows."""
        self._catalogue()
        self._procedure_unit_channel()
        self._submission_and_reception()
        self._due_date_and_supplements()
        self._processing_end()
        self._statuses()
        self._apology_letters()
        self._fees_forms_results_flags()
        self._personal_data()
        self._last_update()
        return self._assemble()

    # ------------------------------------------------------------------ steps
    def _catalogue(self) -> None:
        cfg, rng = self.cfg, self.rng
        units = build_units(cfg.agency, cfg.agency_name)
        unit_index = {u["MaDonVi"]: i for i, u in enumerate(units)}
        procs = build_procedures(rng, units, cfg.agency, cfg.span_start)
        windows = windows_in_span(cfg)

        quarter = 365.25 / 4 * DAY
        n_reg = max(1, int(round(cfg.dossiers_per_quarter * (self.end - self.start) / quarter)))
        # boundary rows: (kind, window) specs
        specs: list[tuple[str, Window]] = []
        for w in windows:
            for kind in BOUNDARY_KINDS:
                specs += [(kind, w)] * cfg.boundary_per_kind
        n_b = len(specs)
        n = n_reg + n_b
        self.units, self.unit_index, self.procs, self.windows = units, unit_index, procs, windows
        self.n_reg, self.specs, self.n = n_reg, specs, n

    def _procedure_unit_channel(self) -> None:
        cfg, rng, n, n_reg, procs, unit_index = self.cfg, self.rng, self.n, self.n_reg, self.procs, self.unit_index
        active = np.array([p["HieuLuc"] == "1" for p in procs])
        weights = rng.gamma(0.8, 1.0, size=len(procs)) * active
        weights /= weights.sum()
        proc = rng.choice(len(procs), size=n, p=weights)
        submit = np.empty(n, dtype=np.int64)
        submit[:n_reg] = np.sort(rng.integers(self.start, self.end, size=n_reg))
        submit[n_reg:] = self.start  # set below
        # old dossiers of procedures no longer in force
        inactive = np.nonzero(~active)[0]
        early_rows = np.nonzero((submit < self.start + 300 * DAY) & (np.arange(n) < n_reg))[0]
        pick = early_rows[rng.random(early_rows.shape[0]) < 0.02]
        proc[pick] = rng.choice(inactive, size=pick.shape[0])

        proc_unit = np.array([unit_index[p["MaDonViThucHien"]] for p in procs])
        unit = proc_unit[proc]
        u = rng.random(n)
        for parent, branches in cat.BRANCH_SHARE.items():
            parent_code = cfg.agency if parent == "000.00" else parent + "." + ".".join(cfg.agency.split(".")[2:])
            acc = 0.0
            base = unit == unit_index[parent_code]
            for prefix, share in branches:
                code = prefix + "." + ".".join(cfg.agency.split(".")[2:])
                sel = base & (u >= acc) & (u < acc + share)
                unit[sel] = unit_index[code]
                acc += share

        online_ok = np.array([p["MucDo"] in ("3", "4") for p in procs])[proc]
        r = rng.random(n)
        channel = np.where(online_ok,
                           np.select([r < 0.62, r < 0.87, r < 0.92, r < 0.97], [1, 0, 2, 3], 4),
                           np.select([r < 0.01, r < 0.76, r < 0.86, r < 0.96], [1, 0, 2, 3], 4)).astype(np.int8)
        online = channel == 1
        self.proc, self.submit, self.unit, self.channel, self.online = proc, submit, unit, channel, online

    def _submission_and_reception(self) -> None:
        rng, n, n_reg, submit, online, specs = self.rng, self.n, self.n_reg, self.submit, self.online, self.specs
        sday = submit // DAY
        inperson = ~online & (np.arange(n) < n_reg)
        sday_bd = busday(sday, 0)
        submit = np.where(inperson, self._office(sday_bd), submit)
        t = np.where(online, submit + rng.integers(600, 2 * DAY, size=n), submit + rng.integers(60, 1200, size=n))
        tday, tod = t // DAY, t % DAY
        weekend = ~np.is_busday(tday.astype("datetime64[D]"))
        off = (tod < 7 * HOUR + 30 * 60) | (tod > 17 * HOUR) | weekend
        moved = self._office(busday(tday + (tod > 17 * HOUR), 0), hi=10 * HOUR + 30 * 60)
        t = np.where(off & online, moved, t)

        # boundary rows: forced T or forced K
        forced_k = np.full(n, NONE, dtype=np.int64)
        boundary_kind = {}
        for j, (kind, w) in enumerate(specs):
            row = n_reg + j
            S, E = to_secs(w.start), to_secs(w.end)
            boundary_kind[row] = (kind, w)
            target = {"T_eq_S": S, "T_eq_S_minus_1": S - 1, "T_eq_E": E, "T_eq_E_plus_1": E + 1}.get(kind)
            if target is not None:
                t[row] = target
            elif kind.startswith("K_"):
                forced_k[row] = {"K_eq_S": S, "K_eq_S_minus_1": S - 1, "K_eq_E": E, "K_eq_E_plus_1": E + 1}[kind]
                t[row] = forced_k[row] - int(rng.integers(HOUR, 25 * DAY))
            else:  # due-date boundaries: received some weeks before E, still open at E
                t[row] = E - int(rng.integers(10 * DAY, 40 * DAY))
            submit[row] = t[row] - (int(rng.integers(HOUR, 2 * DAY)) if online[row] else int(rng.integers(0, 1200)))
        t = np.minimum(t, self.as_of)
        submit = np.minimum(submit, t)
        self.submit, self.t, self.forced_k, self.boundary_kind = submit, t, forced_k, boundary_kind

    def _due_date_and_supplements(self) -> None:
        rng, n, n_reg, procs, proc, t = self.rng, self.n, self.n_reg, self.procs, self.proc, self.t
        boundary_kind = self.boundary_kind
        limits = np.array([float(p["ThoiHanGiaiQuyet"]) if p["ThoiHanGiaiQuyet"] else np.nan for p in procs])[proc]
        has_limit = ~np.isnan(limits) & (rng.random(n) > 0.02)
        lim = np.where(has_limit, np.nan_to_num(limits, nan=1), 1).astype(np.int64)
        tday_rolled = busday(t // DAY, 0)
        hday = busday(t // DAY, lim)
        sup = has_limit & (rng.random(n) < 0.12) & (np.arange(n) < n_reg)
        req_day = busday(t // DAY, rng.integers(1, np.maximum(2, lim // 2 + 1)))
        pause = rng.integers(2, 11, size=n)
        done_day = busday(req_day, pause)
        sup_req = np.where(sup, self._office(req_day), NONE)
        sup_done = np.where(sup, self._office(done_day), NONE)
        hday = np.where(sup, busday(hday, pause), hday)
        # due-date boundary rows
        for row, (kind, w) in boundary_kind.items():
            if kind == "H_on_E_date":
                has_limit[row], hday[row] = True, to_secs(w.end) // DAY
            elif kind == "H_day_after_E":
                has_limit[row], hday[row] = True, to_secs(w.end) // DAY + 1
        h = np.where(has_limit, hday * DAY + 17 * HOUR, NONE)
        self.has_limit, self.tday_rolled, self.hday, self.h = has_limit, tday_rolled, hday, h
        self.sup, self.sup_req, self.sup_done = sup, sup_req, sup_done

    def _processing_end(self) -> None:
        rng, n, n_reg, t, has_limit, hday = self.rng, self.n, self.n_reg, self.t, self.has_limit, self.hday
        tday_rolled, sup, sup_done, forced_k = self.tday_rolled, self.sup, self.sup_done, self.forced_k
        outcome = rng.choice(5, size=n, p=[0.5, 0.27, 0.15, 0.025, 0.055])  # early, on time, late, stalled, no-limit path
        span_bd = np.maximum(np.busday_count(tday_rolled.astype("datetime64[D]"), hday.astype("datetime64[D]")), 1)
        early_day = busday(t // DAY, np.floor(rng.random(n) * span_bd).astype(np.int64))
        early_day = np.minimum(early_day, hday - 1)
        late_day = busday(hday, rng.integers(1, 21, size=n))
        free_day = busday(t // DAY, rng.integers(0, 31, size=n))
        kday = np.select([~has_limit, outcome == 0, outcome == 1, outcome == 2], [free_day, early_day, hday, late_day],
                         free_day)
        k = self._office(kday)
        overtime = rng.random(n) < 0.03  # a few finish after the due hour (17:00) of their day
        k = np.where(overtime, k + rng.integers(HOUR, 3 * HOUR, size=n), k)
        k = np.maximum(k, t + rng.integers(300, 4 * HOUR, size=n))
        k = np.where(sup, np.maximum(k, sup_done + HOUR), k)
        stalled = (outcome == 3) & (np.arange(n) < n_reg)
        k = np.where(stalled, NONE, k)
        # due-date boundary rows stay open past E; forced-K rows end exactly at K
        for row, (kind, w) in self.boundary_kind.items():
            if kind.startswith("H_"):
                k[row] = to_secs(w.end) + int(rng.integers(DAY, 20 * DAY))
            elif kind.startswith("K_"):
                k[row] = forced_k[row]
        finished = (k != NONE) & (k <= self.as_of)
        self.k, self.finished = k, finished

    def _statuses(self) -> None:
        rng, n, n_reg, procs, proc, submit = self.rng, self.n, self.n_reg, self.procs, self.proc, self.submit
        t, h, k, finished, sup_req, sup_done = self.t, self.h, self.k, self.finished, self.sup_req, self.sup_done
        status = np.zeros(n, dtype=np.int8)
        fin_status = rng.choice([10, 9, 8, 7], size=n, p=[0.62, 0.26, 0.06, 0.06])
        status[finished] = fin_status[finished]
        tra = np.where(status == 10, k + rng.integers(0, 3 * DAY, size=n), NONE)
        late_return = (status == 10) & (tra > self.as_of)
        status[late_return], tra[late_return] = 9, NONE
        fee_proc = np.array([p["_fee"] for p in procs])[proc]
        open_rows = ~finished
        open_status = rng.choice([4, 2, 5, 6], size=n, p=[0.7, 0.12, 0.1, 0.08])
        open_status = np.where((open_status == 6) & (fee_proc < 0), 4, open_status)
        status[open_rows] = open_status[open_rows]
        # supplements: only what happened by as_of
        sup_req = np.where(sup_req > self.as_of, NONE, sup_req)
        sup_done = np.where((sup_req == NONE) | (sup_done > self.as_of), NONE, sup_done)
        pending_sup = open_rows & (sup_req != NONE) & (sup_done == NONE)
        status[pending_sup] = 5
        want_sup = open_rows & (status == 5) & (sup_req == NONE)
        sup_req = np.where(want_sup, np.minimum(np.maximum(t + 60, self.as_of - rng.integers(HOUR, 10 * DAY, size=n)),
                                                self.as_of), sup_req)
        k_shown = np.where(finished, k, NONE)
        # noise: K on a dossier still open (ignored by the rules)
        noise = open_rows & (rng.random(n) < 0.01) & (np.arange(n) < n_reg)
        k_shown = np.where(noise, np.minimum(t + rng.integers(DAY, 20 * DAY, size=n), self.as_of), k_shown)
        # never received: status 1 (submitted) and 3 (refused at reception)
        r = rng.random(n)
        regular = np.arange(n) < n_reg
        st1 = regular & (r < 0.015)
        st3 = regular & (r >= 0.015) & (r < 0.035)
        never = st1 | st3
        status[st1], status[st3] = 1, 3
        keep_t = st3 & (rng.random(n) < 0.12)  # refused, yet NgayTiepNhan filled in
        t = np.where(never & ~keep_t, NONE, t)
        h = np.where(never, NONE, h)
        refusal = submit + rng.integers(HOUR, 3 * DAY, size=n)
        k_shown = np.where(st1, NONE, np.where(st3, np.where(rng.random(n) < 0.5, np.minimum(refusal, self.as_of), NONE),
                                                k_shown))
        tra = np.where(never, NONE, tra)
        sup_req = np.where(never, NONE, sup_req)
        sup_done = np.where(never, NONE, sup_done)
        finished &= ~never
        self.status, self.tra, self.fee_proc, self.open_rows, self.never = status, tra, fee_proc, open_rows, never
        self.t, self.h, self.k_shown, self.finished = t, h, k_shown, finished
        self.sup_req, self.sup_done = sup_req, sup_done

    def _apology_letters(self) -> None:
        rng, n, t, h, k, finished = self.rng, self.n, self.t, self.h, self.k, self.finished
        open_rows, never = self.open_rows, self.never
        late_fin = finished & (h != NONE) & (k // DAY > h // DAY)
        overdue_open = open_rows & ~never & (h != NONE) & (h < self.as_of)
        letter_p = np.where(late_fin, 0.6, np.where(overdue_open, 0.4, 0.0))
        has_letter = rng.random(n) < letter_p
        letter = np.where(has_letter, np.minimum(np.maximum(h + rng.integers(HOUR, 2 * DAY, size=n), t), self.as_of), NONE)
        letter_no = np.where(rng.random(n) < 0.05, 0, rng.integers(1, 999, size=n))
        self.letter, self.letter_no = letter, letter_no

    def _fees_forms_results_flags(self) -> None:
        rng, n, procs, proc, online, status = self.rng, self.n, self.procs, self.proc, self.online, self.status
        fee_proc = self.fee_proc
        fee = np.where(fee_proc >= 0, np.where(rng.random(n) < 0.1, 0, fee_proc), -1)
        pay_online = np.array([p["ThanhToanTrucTuyen"] == "1" for p in procs])[proc]
        r = rng.random(n)
        paid_code = np.where(r < 0.6, 1, 2)
        p_paid = np.where(online, 0.55, 0.08)
        paid = np.where((fee > 0) & pay_online & (rng.random(n) < p_paid), paid_code,
                        rng.choice([0, 3, 4], size=n, p=[0.6, 0.25, 0.15]))
        eform_present = np.where(online, rng.random(n) < 0.85, rng.random(n) < 0.03)
        eform_n = np.where(eform_present, rng.integers(8, 61, size=n), -1)
        eform_auto = np.where(eform_present, np.floor(rng.random(n) * (eform_n * 0.55 + 1)).astype(np.int64), -1)
        eform_auto = np.minimum(eform_auto, eform_n)
        has_result = (status == 9) | (status == 10)
        results = np.where(has_result, np.where(rng.random(n) < 0.85, 1, 2), 0)
        result_link = rng.random(n) < 0.55
        dvcqg = rng.choice([1, 0, 3, 4], size=n, p=[0.88, 0.07, 0.03, 0.02])
        digitised = rng.choice([1, 0, 3, 4], size=n, p=[0.55, 0.3, 0.1, 0.05])
        vneid = np.where(online, rng.choice([1, 0, 3], size=n, p=[0.85, 0.1, 0.05]),
                         rng.choice([0, 3, 4], size=n, p=[0.5, 0.3, 0.2]))
        self.fee, self.paid, self.eform_n, self.eform_auto = fee, paid, eform_n, eform_auto
        self.results, self.result_link, self.dvcqg, self.digitised, self.vneid = (results, result_link, dvcqg,
                                                                                  digitised, vneid)

    def _personal_data(self) -> None:
        cfg, rng, n = self.cfg, self.rng, self.n
        gender = rng.integers(0, 2, size=n)
        fam = rng.integers(0, len(cat.FAMILY_NAMES), size=n)
        mid = rng.integers(0, len(cat.MIDDLE_NAMES_M), size=n)
        given = rng.integers(0, len(cat.GIVEN_NAMES_M), size=n)
        birth_year = rng.integers(1945, 2006, size=n)
        century = np.where(birth_year >= 2000, 2, 0) + gender
        id_no = (460 + century) * 10**8 + (birth_year % 100) * 10**6 + rng.integers(0, 10**6, size=n)
        for _ in range(50):  # unique ID numbers: leak checks elsewhere rely on them
            _, first = np.unique(id_no, return_index=True)
            clash = np.ones(n, dtype=bool)
            clash[first] = False
            if not clash.any():
                break
            id_no[clash] = (id_no[clash] // 10**6) * 10**6 + rng.integers(0, 10**6, size=int(clash.sum()))
        phone = rng.integers(0, 4 * 10**8, size=n)
        house = rng.integers(1, 300, size=n)
        street = rng.integers(0, len(cat.STREETS), size=n)
        ward = rng.integers(0, len(cat.WARDS), size=n)
        aux = rng.integers(0, 2**31, size=n)
        nfd = rng.random(n) < cfg.nfd_rate
        self.gender, self.fam, self.mid, self.given, self.id_no, self.phone = gender, fam, mid, given, id_no, phone
        self.house, self.street, self.ward, self.aux, self.nfd = house, street, ward, aux, nfd

    def _last_update(self) -> None:
        rng, n = self.rng, self.n
        submit, t, sup_req, sup_done, k_shown, tra, letter = (self.submit, self.t, self.sup_req, self.sup_done,
                                                              self.k_shown, self.tra, self.letter)
        cols_time = [submit, t, sup_req, sup_done, k_shown, tra, letter]
        last = np.max(np.stack([np.where(c == NONE, 0, c) for c in cols_time]), axis=0)
        ncn = np.minimum(last + rng.integers(0, 900, size=n), self.as_of)
        self.ncn = ncn

    def _assemble(self) -> tuple[Dataset, set[int]]:
        s, n = self, self.n
        cols = dict(proc=s.proc, unit=s.unit, channel=s.channel, status=s.status, submit=s.submit, t=s.t, h=s.h,
                    k=s.k_shown, tra=s.tra, sup_req=s.sup_req, sup_done=s.sup_done, letter=s.letter,
                    letter_no=s.letter_no, fee=s.fee, paid=s.paid, eform_n=s.eform_n, eform_auto=s.eform_auto,
                    results=s.results, result_link=s.result_link, dvcqg=s.dvcqg, digitised=s.digitised,
                    vneid=s.vneid, gender=s.gender, fam=s.fam, mid=s.mid, given=s.given, id_no=s.id_no,
                    phone=s.phone, house=s.house, street=s.street, ward=s.ward, aux=s.aux, nfd=s.nfd, ncn=s.ncn)
        # chronological order of submission (stable), boundary rows placed among the others
        perm = np.argsort(s.submit, kind="stable")
        cols = {name: np.ascontiguousarray(a[perm]) for name, a in cols.items()}
        new_pos = np.empty(n, dtype=np.int64)
        new_pos[perm] = np.arange(n)
        boundary_rows = {int(new_pos[row]): spec for row, spec in s.boundary_kind.items()}

        ds = Dataset(config=s.cfg, units=s.units,
                     procedures=[{k2: v for k2, v in p.items() if not k2.startswith("_")} for p in s.procs],
                     windows=s.windows, cols=cols, rating_cols={}, mutations={}, dup_rows=np.zeros(0, dtype=np.int64),
                     dup_meta=[], delivery_order=np.arange(n), warnings={}, invalid_ratings={}, boundary_cases=[])
        ds.boundary_cases = sorted((BoundaryCase(w.rule, w.year, w.quarter, kind, ds.ma_ho_so(row))
                                    for row, (kind, w) in boundary_rows.items()),
                                   key=lambda b: (b.rule, b.year, b.quarter, b.kind, b.ma_ho_so))
        return ds, set(boundary_rows)
