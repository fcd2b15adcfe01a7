/**
 * A deterministic synthetic population of Jinan small enterprises, as rows of the twelve source datasets
 * (field names and rules: the dataset spec / schemas/datasets). Used by the CLI's demo loader and by tests.
 *
 * Every trait of enterprise i comes from (seed, i) alone (identities.ts), and every dataset generator
 * reseeds its own PRNG from (seed, i, dataset), so datasets can be generated separately, lazily and in any
 * order and still agree with each other. No clock, no Math.random: same options -> byte-identical rows.
 *
 * Shares (of all enterprises unless stated):
 * - 1a medical_insurance_payments: everyone, 24 months ending with the month before asOf. Headcount 3-200
 *   (log-uniform, median ~25) drifting a few % a month; contribution = headcount x per-capita base
 *   (3,800-14,000 yuan, raised 0-6 % each July) x 7 %. On-time payment = by the 15th of the next month;
 *   ~12 % of enterprises (50 % of distressed ones) pay a quarter of their months late (16th-50th day).
 *   A month whose payment would fall after asOf has no payment_date yet.
 *   latest_normal_payment_month on a row = latest month up to that row's month that was paid on time.
 * - arrears 8 %: 1-6 periods outstanding (1b rows, no payment_date in 1a); 70 % stopped paying (the
 *   trailing months up to two months before asOf, the last month unpaid too), 30 % scattered periods.
 *   A quarter of them also have one earlier period settled late (1b row with arrears_amount 0.00).
 * - deferral 5 % (only enterprises without arrears): a run of 1-3 months with the whole contribution
 *   deferred (deferred_amount + deferral_date early in the next month), paid 90-180 days later.
 * - headcount_drop 10 % (30 % of those with arrears): headcount at the end of the last full quarter before
 *   asOf is 25-60 % below the month before that quarter; everyone else stays within +-10 % over that quarter.
 *   1c has one row per month of that quarter with month-on-month rates from the 1a figures (4 decimals).
 * - private_medical 3 % (never agri): clinics, hospitals and pharmacies; 80 % hold a drug-trading licence.
 * - agri 12 %, in the rural districts: cooperative 30 % (USCC 93...), agri_enterprise 20 %,
 *   service_organization 5 % (these three id_type uscc, reusing the enterprise's USCC), family_farm 30 % and
 *   large_grower 15 % (registered as individual businesses, USCC 92..., but filed by the agriculture bureau
 *   under the farmer's resident ID; a large grower's entity_name is the person's name).
 *   large_growers lists every large_grower, 40 % of family farms and 10 % of cooperatives.
 *   agri_insurance: 75 % insured (this season and last), 15 % lapsed (last two seasons, nothing current),
 *   10 % uninsured (one row with insured false); 20 % of policies have 1-3 claims.
 *   agri_subsidies: 0/1/2/3/4 grants in the last 3 years with 25/30/25/12/8 %.
 *   land_transfers: 0/1/2/3 contracts as transferee with 25/40/25/10 % (service organisations none);
 *   transfer_fee is the annual fee (600-1,200 yuan per mu). farming_scale of crops = all parcels' area.
 * - utilities: water 90 % (1 account 89 %, 2 9 %, 3 2 %), electricity 95 %, gas 60 %; arrears on the main
 *   account: water 6 %, electricity 4 %, gas 2 %; electricity suspended 2 % (distressed enterprises are
 *   three times as likely to be in any of these, with the base rate lowered so the totals hold);
 *   secondary electricity accounts are closed 25 % of the time; breach_count_24m 0 for 86 %, 1 for 7 %,
 *   2 for 4 %, 3-9 for 3 %; one_meter_per_household true for 92 % of accounts.
 */

import {
  type AgriTraits,
  type EnterpriseTraits,
  type FarmingType,
  DISTRICTS,
  IdentitySpace,
  KIND_AGRI,
  KIND_ARREARS,
  KIND_MEDICAL,
  MAX_ENTERPRISES,
  enterpriseKind,
  enterpriseTraits,
  personName,
  profileOf,
} from './identities.js';
import {
  Rng,
  addYears,
  daysFromCivil,
  firstDayOfMonth,
  formatDate,
  formatMonth,
  formatYuan,
  parseDate,
  roundTo,
} from './random.js';

export type DatasetId =
  | 'medical_insurance_payments'
  | 'medical_insurance_arrears'
  | 'medical_insurance_changes'
  | 'private_medical_institutions'
  | 'agri_insurance'
  | 'agri_subsidies'
  | 'large_growers'
  | 'agri_entities'
  | 'land_transfers'
  | 'water_accounts'
  | 'electricity_accounts'
  | 'gas_accounts';

export interface DemoOptions {
  enterprises: number;
  seed: number;
  /** YYYY-MM-DD: "today" of the population. */
  asOf: string;
}

export type DemoRow = Record<string, string | number | boolean>;

const MONTHS = 24;

// One salt per generator stream, so no two streams of an enterprise coincide.
const Salt = {
  Series: 0x5e41,
  Land: 0x1a0d,
  Insurance: 0x2a,
  Subsidies: 0x2b,
  Address: 0xadd,
  Water: 0x3a,
  Electricity: 0x3b,
  Gas: 0x3c,
} as const;

// How each contribution month ended up, as of asOf.
const Status = {
  Normal: 0, // paid by the 15th of the next month
  Late: 1, // paid, but after the 15th
  Arrears: 2, // overdue and unpaid: a 1b row
  Unpaid: 3, // unpaid but not yet counted as arrears (the month after a stop)
  Deferred: 4, // contribution deferred (缓缴)
  Settled: 5, // was in arrears, paid late: a 1b row with amount 0
} as const;

/** What every generator of one population shares; all of it is derived from the options. */
interface Context {
  readonly enterprises: number;
  readonly space: IdentitySpace;
  readonly asOfDay: number;
  /** Month index (year * 12 + month - 1) of the first of the 24 contribution months. */
  readonly firstMonth: number;
  readonly monthText: readonly string[];
  /** Window position of the last month of the last full calendar quarter before asOf. */
  readonly quarterEnd: number;
}

function context(options: DemoOptions): Context {
  const { enterprises, seed, asOf } = options;
  if (!Number.isSafeInteger(enterprises) || enterprises < 0 || enterprises > MAX_ENTERPRISES) {
    throw new RangeError(`enterprises must be an integer from 0 to ${MAX_ENTERPRISES}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError('seed must be a safe integer');
  const asOfDay = parseDate(asOf);
  const year = Number(asOf.slice(0, 4));
  if (year < 1990 || year > 9000) throw new RangeError('asOf must be a date between 1990 and 9000');
  const asOfMonth = year * 12 + Number(asOf.slice(5, 7)) - 1;
  const firstMonth = asOfMonth - MONTHS;
  let lastQuarterMonth = asOfMonth - 1;
  while (lastQuarterMonth % 3 !== 2) lastQuarterMonth--;
  return {
    enterprises,
    space: new IdentitySpace(seed),
    asOfDay,
    firstMonth,
    monthText: Array.from({ length: MONTHS }, (_, t) => formatMonth(firstMonth + t)),
    quarterEnd: lastQuarterMonth - firstMonth,
  };
}

/**
 * The 24-month medical-insurance history of one enterprise, shared by 1a, 1b and 1c so they agree.
 * One instance per generator run, refilled per enterprise: no per-row allocation.
 */
class Series {
  readonly headcount = new Int32Array(MONTHS);
  readonly fen = new Float64Array(MONTHS);
  readonly status = new Uint8Array(MONTHS);
  /** Day number of the payment, -1 while unpaid as of asOf. */
  readonly payDay = new Int32Array(MONTHS);
  /** Day number the deferral was granted, -1 if none. */
  readonly deferralDay = new Int32Array(MONTHS);
  private readonly rng = new Rng();

  constructor(private readonly ctx: Context) {}

  fill(traits: EnterpriseTraits): this {
    const { ctx, rng, headcount, fen, status, payDay, deferralDay } = this;
    rng.reseed(ctx.space.seedFor(traits.index, Salt.Series));
    const pre = ctx.quarterEnd - 3; // the month before the quarter: the baseline of the quarter's change
    let h = traits.headcountBase;
    let base = 0;
    let dropTo = 0;
    let wage = traits.wageBase;
    for (let t = 0; t < MONTHS; t++) {
      if (t > 0) {
        const step = rng.chance(0.45) ? 1 + Math.floor(rng.next() * Math.max(1, h * 0.04)) : 0;
        const drift = rng.chance(0.52) ? step : -step; // slight growth bias
        if (t > pre && t <= ctx.quarterEnd) {
          if (traits.headcountDrop) {
            // Flat in the quarter's first month, then down in two steps, ending below 80 % of the baseline.
            if (t === pre + 1) h = base;
            else if (t === pre + 2) h = Math.round((base + dropTo) / 2);
            else h = dropTo;
          } else {
            h = Math.min(Math.floor(base * 1.1), Math.max(Math.ceil(base * 0.9), h + drift));
          }
        } else if (t > ctx.quarterEnd && traits.headcountDrop) {
          if (rng.chance(0.1)) h = Math.max(1, h + drift);
        } else {
          h = Math.max(3, h + drift);
        }
        if ((ctx.firstMonth + t) % 12 === 6) wage = Math.round((wage * (1 + rng.next() * 0.06)) / 10) * 10;
      }
      if (t === pre) {
        base = h;
        const target = Math.floor(base * (1 - rng.real(0.25, 0.6)));
        dropTo = Math.max(1, Math.min(target, Math.ceil(base * 0.8) - 1));
      }
      headcount[t] = h;
      fen[t] = h * wage * 7; // 7 % of (wage yuan) = 7 fen per yuan
      const due = firstDayOfMonth(ctx.firstMonth + t + 1);
      if (traits.latePayer && rng.chance(0.25)) {
        status[t] = Status.Late;
        payDay[t] = due + rng.int(15, 49);
      } else {
        status[t] = Status.Normal;
        payDay[t] = due + rng.int(0, 14);
      }
      deferralDay[t] = -1;
    }

    const k = traits.arrears;
    if (k > 0) {
      if (traits.arrearsTrailing) {
        for (let t = MONTHS - 1 - k; t < MONTHS - 1; t++) status[t] = Status.Arrears;
        status[MONTHS - 1] = Status.Unpaid;
      } else {
        for (let placed = 0; placed < k; ) {
          const t = rng.int(0, MONTHS - 3);
          if (status[t] !== Status.Arrears) {
            status[t] = Status.Arrears;
            placed++;
          }
        }
      }
      if (traits.settledArrears) {
        const last = traits.arrearsTrailing ? MONTHS - 2 - k : MONTHS - 3;
        let t = rng.int(0, last);
        while (status[t] === Status.Arrears) t = t === 0 ? last : t - 1;
        status[t] = Status.Settled;
        // Paid 2-6 months late, but by asOf (it is settled): at least 59 days after the due month began.
        payDay[t] = Math.min(firstDayOfMonth(ctx.firstMonth + t + 1) + rng.int(60, 200), ctx.asOfDay - 1);
      }
    }
    if (traits.deferralMonths > 0) {
      const from = rng.int(0, MONTHS - 3 - traits.deferralMonths);
      for (let t = from; t < from + traits.deferralMonths; t++) {
        status[t] = Status.Deferred;
        deferralDay[t] = firstDayOfMonth(ctx.firstMonth + t + 1) + rng.int(0, 9);
        payDay[t] = deferralDay[t]! + rng.int(90, 180);
      }
    }
    for (let t = 0; t < MONTHS; t++) {
      if (status[t] === Status.Arrears || status[t] === Status.Unpaid || payDay[t]! > ctx.asOfDay) payDay[t] = -1;
    }
    return this;
  }
}

function* medicalInsurancePayments(ctx: Context): Generator<DemoRow> {
  const series = new Series(ctx);
  for (let i = 0; i < ctx.enterprises; i++) {
    const traits = enterpriseTraits(ctx.space, i);
    const { headcount, fen, status, payDay, deferralDay } = series.fill(traits);
    let latestNormal = -1;
    for (let t = 0; t < MONTHS; t++) {
      const row: DemoRow = {
        enterprise_name: traits.name,
        uscc: traits.uscc,
        contribution_month: ctx.monthText[t]!,
        insured_headcount: headcount[t]!,
        employer_contribution_amount: formatYuan(fen[t]!),
      };
      if (payDay[t]! >= 0) {
        row.payment_date = formatDate(payDay[t]!);
        if (status[t] === Status.Normal) latestNormal = t;
      }
      if (latestNormal >= 0) row.latest_normal_payment_month = ctx.monthText[latestNormal]!;
      if (status[t] === Status.Deferred) {
        row.deferred_amount = formatYuan(fen[t]!);
        row.deferral_date = formatDate(deferralDay[t]!);
      }
      yield row;
    }
  }
}

function* medicalInsuranceArrears(ctx: Context): Generator<DemoRow> {
  const series = new Series(ctx);
  for (let i = 0; i < ctx.enterprises; i++) {
    if ((enterpriseKind(ctx.space, i) & KIND_ARREARS) === 0) continue;
    const traits = enterpriseTraits(ctx.space, i);
    const { fen, status } = series.fill(traits);
    for (let t = 0; t < MONTHS; t++) {
      if (status[t] !== Status.Arrears && status[t] !== Status.Settled) continue;
      yield {
        enterprise_name: traits.name,
        uscc: traits.uscc,
        arrears_period: ctx.monthText[t]!,
        arrears_amount: status[t] === Status.Arrears ? formatYuan(fen[t]!) : '0.00',
      };
    }
  }
}

function* medicalInsuranceChanges(ctx: Context): Generator<DemoRow> {
  const series = new Series(ctx);
  for (let i = 0; i < ctx.enterprises; i++) {
    const traits = enterpriseTraits(ctx.space, i);
    const { headcount, fen } = series.fill(traits);
    for (let t = ctx.quarterEnd - 2; t <= ctx.quarterEnd; t++) {
      yield {
        enterprise_name: traits.name,
        uscc: traits.uscc,
        month: ctx.monthText[t]!,
        headcount_change_rate: roundTo((headcount[t]! - headcount[t - 1]!) / headcount[t - 1]!, 4),
        contribution_change_rate: roundTo((fen[t]! - fen[t - 1]!) / fen[t - 1]!, 4),
      };
    }
  }
}

function* privateMedicalInstitutions(ctx: Context): Generator<DemoRow> {
  for (let i = 0; i < ctx.enterprises; i++) {
    if ((enterpriseKind(ctx.space, i) & KIND_MEDICAL) === 0) continue;
    const traits = enterpriseTraits(ctx.space, i);
    const row: DemoRow = { enterprise_name: traits.name, uscc: traits.uscc };
    if (traits.drugLicence !== null) row.drug_trading_licence = traits.drugLicence;
    yield row;
  }
}

interface Transfer {
  readonly parcel: string;
  readonly areaMu: number;
  readonly feeFen: number;
  readonly start: number;
  readonly end: number;
  readonly transferor: string;
}

/** An agricultural entity's land and scale, shared by 2a, 2b, 2d and 2e so they agree. */
interface Holding {
  readonly parcels: string[];
  readonly transfers: Transfer[];
  /** Mu for crops (the parcels' total, or the serviced area of a service organisation), heads for livestock. */
  readonly scale: number;
  readonly cropMu: number;
}

const TRANSFER_MU: Record<AgriTraits['category'], readonly [number, number]> = {
  cooperative: [80, 600],
  agri_enterprise: [100, 1500],
  family_farm: [30, 300],
  large_grower: [50, 500],
  service_organization: [0, 0],
};

function holding(ctx: Context, traits: EnterpriseTraits, agri: AgriTraits, rng: Rng): Holding {
  rng.reseed(ctx.space.seedFor(traits.index, Salt.Land));
  // Parcel codes: <district>-<village 4 digits>-<parcel 3 digits>; the permutation gives each enterprise
  // its own block of ten parcels, so codes never collide across entities.
  const p = ctx.space.parcels.map(traits.index);
  const stem = `${traits.district.code}-${String(Math.floor(p / 100)).padStart(4, '0')}-`;
  const parcelCode = (j: number): string => stem + String((p % 100) * 10 + j).padStart(3, '0');
  const livestock = agri.farming.unit === 'head';
  const parcels: string[] = [];
  const transfers: Transfer[] = [];
  let tenths = 0; // area in 0.1 mu, kept integral so sums are exact
  const personal = agri.category === 'family_farm' || agri.category === 'large_grower';
  if (agri.category !== 'service_organization' && (personal || (livestock && rng.chance(0.5)))) {
    tenths += Math.round(rng.real(5, livestock ? 50 : 30) * 10);
    parcels.push(parcelCode(0));
  }
  const [lo, hi] = TRANSFER_MU[agri.category];
  for (let j = 1; j <= agri.landTransfers; j++) {
    const areaTenths = Math.round(rng.real(livestock ? 10 : lo, livestock ? 80 : hi) * 10);
    const start = ctx.asOfDay - rng.int(180, 8 * 365);
    const transferor = rng.chance(0.65) ? `${agri.village}股份经济合作社` : personName(rng);
    transfers.push({
      parcel: parcelCode(j),
      areaMu: areaTenths / 10,
      feeFen: areaTenths * rng.int(600, 1200) * 10,
      start,
      end: addYears(start, rng.int(3, 15)) - 1,
      transferor,
    });
    parcels.push(parcelCode(j));
    tenths += areaTenths;
  }
  if (!livestock && agri.category !== 'service_organization' && tenths === 0) {
    tenths = Math.round(rng.real(10, 50) * 10);
    parcels.push(parcelCode(0));
  }
  let scale: number;
  if (agri.category === 'service_organization') scale = Math.round(rng.real(500, 5000) * 10) / 10;
  else if (livestock) {
    const heads = rng.int(agri.farming.minHead, agri.farming.maxHead);
    scale = personal ? Math.max(agri.farming.minHead, Math.round(heads * 0.3)) : heads;
  } else scale = tenths / 10;
  return { parcels, transfers, scale, cropMu: livestock ? 0 : scale };
}

/** The enterprises that are agricultural entities, with their agricultural traits unwrapped. */
function* agriSubjects(ctx: Context): Generator<{ traits: EnterpriseTraits; agri: AgriTraits }> {
  for (let i = 0; i < ctx.enterprises; i++) {
    if ((enterpriseKind(ctx.space, i) & KIND_AGRI) === 0) continue;
    const traits = enterpriseTraits(ctx.space, i);
    if (traits.agri !== null) yield { traits, agri: traits.agri };
  }
}

function* agriInsurance(ctx: Context): Generator<DemoRow> {
  const landRng = new Rng();
  const rng = new Rng();
  const asOfYear = Number(formatDate(ctx.asOfDay).slice(0, 4));
  for (const { traits, agri } of agriSubjects(ctx)) {
    const { scale } = holding(ctx, traits, agri, landRng);
    rng.reseed(ctx.space.seedFor(traits.index, Salt.Insurance));
    for (const product of agri.farming.products) {
      // The latest season that has started by asOf is season `current`.
      let current = asOfYear;
      if (daysFromCivil(current, product.startMonth, product.startDay) > ctx.asOfDay) current--;
      const first = agri.insurance === 'insured' ? current - 1 : agri.insurance === 'lapsed' ? current - 2 : current;
      const last = agri.insurance === 'lapsed' ? current - 1 : current;
      for (let year = first; year <= last; year++) {
        const start = daysFromCivil(year, product.startMonth, product.startDay);
        const end = start + product.days - 1;
        const row: DemoRow = {
          entity_name: agri.entityName,
          id_type: agri.idType,
          id_number: agri.idNumber,
          insured: agri.insurance !== 'uninsured',
          insurance_type: product.type,
        };
        // An uninsured entity is listed under the scheme for this season, without cover or claims.
        if (agri.insurance === 'uninsured') {
          row.policy_start_date = formatDate(start);
          row.policy_end_date = formatDate(end);
        } else {
          const insuredScale =
            agri.farming.unit === 'mu'
              ? roundTo(scale * rng.real(0.7, 1), 1)
              : Math.max(1, Math.round(scale * rng.real(0.6, 1)));
          const sumFen = Math.round(insuredScale * product.yuanPerUnit * 100);
          row.insured_scale = insuredScale;
          row.sum_insured = formatYuan(sumFen);
          row.policy_start_date = formatDate(start);
          row.policy_end_date = formatDate(end);
          const claimFrom = start + 10;
          const claimTo = Math.min(end, ctx.asOfDay);
          if (rng.chance(0.2) && claimTo >= claimFrom) {
            row.claim_count = 1 + rng.tier([0.7, 0.92, 1]);
            row.claim_amount = formatYuan(Math.round(sumFen * rng.real(0.03, 0.35)));
            row.last_claim_date = formatDate(rng.int(claimFrom, claimTo));
          } else {
            row.claim_count = 0;
          }
        }
        yield row;
      }
    }
  }
}

interface SubsidyScheme {
  readonly type: string;
  /** Yuan per mu of crop land when perMu, else a lump sum range. */
  readonly lo: number;
  readonly hi: number;
  readonly perMu: boolean;
  readonly applies: (agri: AgriTraits) => boolean;
}

const isGrain = (agri: AgriTraits): boolean => agri.farming.name === '小麦、玉米';
const isCrop = (agri: AgriTraits): boolean => agri.farming.unit === 'mu' && agri.category !== 'service_organization';
const SUBSIDY_SCHEMES: readonly SubsidyScheme[] = [
  { type: '耕地地力保护补贴', lo: 110, hi: 130, perMu: true, applies: isCrop },
  { type: '实际种粮农民一次性补贴', lo: 10, hi: 30, perMu: true, applies: (a) => isCrop(a) && isGrain(a) },
  { type: '种粮大户补贴', lo: 20, hi: 50, perMu: true, applies: (a) => a.category === 'large_grower' && isGrain(a) },
  { type: '农机购置与应用补贴', lo: 3_000, hi: 80_000, perMu: false, applies: () => true },
  { type: '家庭农场培育项目补助', lo: 20_000, hi: 100_000, perMu: false, applies: (a) => a.category === 'family_farm' },
  { type: '农民合作社高质量发展项目补助', lo: 50_000, hi: 300_000, perMu: false, applies: (a) => a.category === 'cooperative' },
  { type: '农业产业化项目扶持资金', lo: 100_000, hi: 1_000_000, perMu: false, applies: (a) => a.category === 'agri_enterprise' },
  { type: '农业社会化服务项目补助', lo: 50_000, hi: 500_000, perMu: false, applies: (a) => a.category === 'service_organization' },
  { type: '畜禽粪污资源化利用项目补助', lo: 20_000, hi: 200_000, perMu: false, applies: (a) => a.farming.unit === 'head' },
  { type: '生猪调出大县奖励资金', lo: 10_000, hi: 100_000, perMu: false, applies: (a) => a.farming.name === '生猪' },
];

function* agriSubsidies(ctx: Context): Generator<DemoRow> {
  const landRng = new Rng();
  const rng = new Rng();
  const window = 3 * 365;
  for (const { traits, agri } of agriSubjects(ctx)) {
    const count = agri.subsidies;
    if (count === 0) continue;
    const { cropMu } = holding(ctx, traits, agri, landRng);
    rng.reseed(ctx.space.seedFor(traits.index, Salt.Subsidies));
    const schemes = SUBSIDY_SCHEMES.filter((s) => s.applies(agri) && (!s.perMu || cropMu > 0));
    // Grants fall in distinct slices of the last three years, so (type, date) keys never repeat.
    const slice = Math.floor(window / count);
    for (let g = 0; g < count; g++) {
      const scheme = rng.pick(schemes);
      const amountFen = scheme.perMu
        ? Math.round(cropMu * rng.int(scheme.lo, scheme.hi) * 100)
        : rng.int(scheme.lo, scheme.hi) * 100;
      yield {
        entity_name: agri.entityName,
        id_type: agri.idType,
        id_number: agri.idNumber,
        subsidy_type: scheme.type,
        subsidy_amount: formatYuan(amountFen),
        grant_date: formatDate(ctx.asOfDay - window + g * slice + rng.int(0, slice - 1)),
      };
    }
  }
}

function* largeGrowers(ctx: Context): Generator<DemoRow> {
  for (const { agri } of agriSubjects(ctx)) {
    if (!agri.onLargeGrowerList) continue;
    yield { grower_name: agri.entityName, id_type: agri.idType, id_number: agri.idNumber, address: agri.location };
  }
}

function farmingTypeText(agri: AgriTraits, farming: FarmingType): string {
  return agri.category === 'service_organization' ? `${farming.name}（托管服务）` : farming.name;
}

function* agriEntities(ctx: Context): Generator<DemoRow> {
  const landRng = new Rng();
  for (const { traits, agri } of agriSubjects(ctx)) {
    const { parcels, scale } = holding(ctx, traits, agri, landRng);
    const row: DemoRow = {
      entity_name: agri.entityName,
      person_in_charge: agri.personInCharge,
      id_type: agri.idType,
      id_number: agri.idNumber,
      category: agri.category,
      location: agri.location,
      business_scope:
        agri.category === 'service_organization' ? '农机作业服务；植保服务；粮食烘干；土地托管服务' : agri.farming.scope,
    };
    if (parcels.length > 0) row.land_parcel_codes = parcels.join(';');
    row.farming_type = farmingTypeText(agri, agri.farming);
    row.farming_scale = scale;
    row.farming_scale_unit = agri.farming.unit;
    yield row;
  }
}

function* landTransfers(ctx: Context): Generator<DemoRow> {
  const landRng = new Rng();
  for (const { traits, agri } of agriSubjects(ctx)) {
    if (agri.landTransfers === 0) continue;
    for (const transfer of holding(ctx, traits, agri, landRng).transfers) {
      yield {
        transferor_name: transfer.transferor,
        transferee_name: agri.entityName,
        transferee_id_type: agri.idType,
        transferee_id_number: agri.idNumber,
        transfer_fee: formatYuan(transfer.feeFen),
        land_area_mu: transfer.areaMu,
        parcel_code: transfer.parcel,
        transfer_start_date: formatDate(transfer.start),
        transfer_end_date: formatDate(transfer.end),
      };
    }
  }
}

/** The enterprise's main premises, identical for its water, electricity and gas main accounts. */
function mainAddress(ctx: Context, traits: EnterpriseTraits, rng: Rng): string {
  rng.reseed(ctx.space.seedFor(traits.index, Salt.Address));
  if (traits.agri !== null) return traits.agri.location;
  return `济南市${traits.district.name}${rng.pick(traits.district.roads)}${rng.int(1, 3999)}号`;
}

function siteAddress(traits: EnterpriseTraits, rng: Rng): string {
  const district = rng.chance(0.7) ? traits.district : rng.pick(DISTRICTS);
  return `济南市${district.name}${rng.pick(district.roads)}${rng.int(1, 3999)}号${rng.pick(['', '厂区', '仓库', '门店', '办公楼'])}`;
}

/** Opening date of account k: the main account soon after founding, others any time since. */
function openingDay(ctx: Context, traits: EnterpriseTraits, k: number, rng: Rng): number {
  const founded = ctx.asOfDay - traits.foundedDaysAgo;
  return k === 0 ? founded + rng.int(0, 180) : rng.int(founded, ctx.asOfDay - 30);
}

type MeteredUtility = 'water' | 'gas';

function* meteredAccounts(ctx: Context, utility: MeteredUtility): Generator<DemoRow> {
  const addressRng = new Rng();
  const rng = new Rng();
  const prefix = utility === 'water' ? '0' : 'RQ';
  for (let i = 0; i < ctx.enterprises; i++) {
    const traits = enterpriseTraits(ctx.space, i);
    const accounts = utility === 'water' ? traits.waterAccounts : traits.gasAccounts;
    if (accounts === 0) continue;
    const inArrears = utility === 'water' ? traits.waterArrears : traits.gasArrears;
    rng.reseed(ctx.space.seedFor(i, utility === 'water' ? Salt.Water : Salt.Gas));
    for (let k = 0; k < accounts; k++) {
      const arrears = k === 0 && inArrears;
      const opened = openingDay(ctx, traits, k, rng);
      const address = k === 0 ? mainAddress(ctx, traits, addressRng) : siteAddress(traits, rng);
      const scale = Math.sqrt(traits.headcountBase); // bills grow with size, but slower than headcount
      yield {
        enterprise_name: traits.name,
        uscc: traits.uscc,
        account_number: `${prefix}${traits.accountStem}${k}`,
        account_opening_date: formatDate(opened),
        service_address: address,
        prepaid_amount: formatYuan(!arrears && rng.chance(0.35) ? Math.round(rng.real(100, 3000) * scale) * 100 : 0),
        arrears_amount: formatYuan(arrears ? Math.round(rng.real(20_000, 500_000) * scale) : 0),
        one_meter_per_household: rng.chance(0.92),
      };
    }
  }
}

// Standard transformer capacities (kVA); an account gets the smallest one covering its load.
const CAPACITIES = [10, 20, 30, 50, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150];

function capacityFor(load: number): number {
  for (const c of CAPACITIES) if (c >= load) return c;
  return CAPACITIES[CAPACITIES.length - 1]!;
}

// Breaches of the supply contract in two years: mostly none, a thin tail up to 9.
const BREACH_CUMULATIVE = [0.86, 0.93, 0.97, 1];

function breachCount(rng: Rng): number {
  const tier = rng.tier(BREACH_CUMULATIVE);
  return tier < 3 ? tier : rng.int(3, 9);
}

function* electricityAccounts(ctx: Context): Generator<DemoRow> {
  const addressRng = new Rng();
  const rng = new Rng();
  for (let i = 0; i < ctx.enterprises; i++) {
    const traits = enterpriseTraits(ctx.space, i);
    if (traits.electricityAccounts === 0) continue;
    rng.reseed(ctx.space.seedFor(i, Salt.Electricity));
    for (let k = 0; k < traits.electricityAccounts; k++) {
      const closed = k > 0 && rng.chance(0.25);
      const status = k === 0 ? (traits.powerSuspended ? 'suspended' : 'normal') : closed ? 'closed' : 'normal';
      const arrears = k === 0 && traits.powerArrears;
      const load = traits.headcountBase * rng.real(2, 15) * (k === 0 ? 1 : 0.4);
      const firstSupply = openingDay(ctx, traits, k, rng);
      yield {
        enterprise_name: traits.name,
        uscc: traits.uscc,
        account_number: `3${traits.accountStem}${k}`,
        service_address: k === 0 ? mainAddress(ctx, traits, addressRng) : siteAddress(traits, rng),
        operating_capacity_kva: capacityFor(load),
        first_supply_date: formatDate(firstSupply),
        account_status: status,
        arrears_amount: formatYuan(arrears ? Math.round(rng.real(500, 50_000) * Math.sqrt(traits.headcountBase)) * 10 : 0),
        breach_count_24m: breachCount(rng),
      };
    }
  }
}

const GENERATORS: ReadonlyArray<readonly [DatasetId, (ctx: Context) => Iterable<DemoRow>]> = [
  ['medical_insurance_payments', medicalInsurancePayments],
  ['medical_insurance_arrears', medicalInsuranceArrears],
  ['medical_insurance_changes', medicalInsuranceChanges],
  ['private_medical_institutions', privateMedicalInstitutions],
  ['agri_insurance', agriInsurance],
  ['agri_subsidies', agriSubsidies],
  ['large_growers', largeGrowers],
  ['agri_entities', agriEntities],
  ['land_transfers', landTransfers],
  ['water_accounts', (ctx) => meteredAccounts(ctx, 'water')],
  ['electricity_accounts', electricityAccounts],
  ['gas_accounts', (ctx) => meteredAccounts(ctx, 'gas')],
];

/** One entry per dataset, in the order above; rows are produced lazily so 100,000 enterprises stay in flat memory. */
export function demoPopulation(options: DemoOptions): Array<{ dataset: DatasetId; rows: () => Iterable<DemoRow> }> {
  const ctx = context(options);
  return GENERATORS.map(([dataset, generate]) => ({ dataset, rows: () => generate(ctx) }));
}

/** The enterprise with this index (0-based), so tests and the CLI can print who to ask about. */
export function demoEnterprise(options: DemoOptions, index: number): { name: string; uscc: string; profile: string[] } {
  const ctx = context(options);
  if (!Number.isSafeInteger(index) || index < 0 || index >= ctx.enterprises) {
    throw new RangeError(`enterprise index must be an integer from 0 to ${ctx.enterprises - 1}`);
  }
  const traits = enterpriseTraits(ctx.space, index);
  return { name: traits.name, uscc: traits.uscc, profile: profileOf(traits) };
}
