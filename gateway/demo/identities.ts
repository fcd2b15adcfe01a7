/**
 * Who the demo enterprises are: Jinan districts and word lists, valid and unique USCCs and resident
 * ID numbers, Chinese names, and `enterpriseTraits`, which derives every trait of enterprise `index`
 * from (seed, index) alone so each dataset generator can re-derive it without shared state.
 */

import { residentIdCheckCharacter, usccCheckCharacter } from '../identifiers/index.js';
import { AffinePermutation, Rng, daysFromCivil, formatDate, hash32, seedWords } from './random.js';

/** Largest population: the parcel-code permutation below works on [0, 10^6). */
export const MAX_ENTERPRISES = 1_000_000;

export interface District {
  readonly code: string;
  readonly name: string;
  readonly roads: readonly string[];
  /** Towns and sub-districts with farmland; empty for the urban core. */
  readonly towns: readonly string[];
}

export const DISTRICTS: readonly District[] = [
  { code: '370102', name: '历下区', roads: ['经十路', '历山路', '解放东路', '山大路', '转山西路', '和平路', '文化东路', '燕子山路'], towns: [] },
  { code: '370103', name: '市中区', roads: ['经四路', '英雄山路', '二环南路', '七里山路', '王官庄街', '纬二路', '玉函路'], towns: [] },
  { code: '370104', name: '槐荫区', roads: ['经十路', '张庄路', '腊山河西路', '日照路', '经七路', '美里路'], towns: [] },
  { code: '370105', name: '天桥区', roads: ['北园大街', '无影山路', '济泺路', '堤口路', '标山路', '蓝翔路'], towns: [] },
  { code: '370112', name: '历城区', roads: ['工业北路', '华山路', '飞跃大道', '华信路', '港沟路', '凤鸣路', '围子山路'], towns: ['唐王街道', '仲宫街道', '柳埠街道', '彩石街道', '西营街道'] },
  { code: '370113', name: '长清区', roads: ['大学路', '经十西路', '清河街', '长清湖路', '峰山路'], towns: ['归德街道', '孝里街道', '马山镇', '万德街道', '双泉镇'] },
  { code: '370114', name: '章丘区', roads: ['汇泉路', '明水大道', '世纪大道', '山泉路', '唐王山路'], towns: ['宁家埠街道', '相公庄街道', '刁镇', '白云湖街道', '高官寨街道', '绣惠街道'] },
  { code: '370115', name: '济阳区', roads: ['纬二路', '开元大街', '正安路', '新元大街', '富阳街'], towns: ['曲堤街道', '孙耿街道', '仁风镇', '垛石街道', '太平街道', '新市镇'] },
  { code: '370116', name: '莱芜区', roads: ['凤城大街', '鲁中大街', '汶河大道', '长勺路', '花园路'], towns: ['口镇街道', '羊里街道', '大王庄镇', '寨里镇', '苗山镇'] },
  { code: '370117', name: '钢城区', roads: ['钢都大街', '府前大街', '九龙大街', '双泉路'], towns: ['颜庄街道', '辛庄街道', '汶源街道'] },
  { code: '370124', name: '平阴县', roads: ['青龙路', '府前街', '黄河路', '锦水大街'], towns: ['玫瑰镇', '孔村镇', '洪范池镇', '东阿镇', '孝直镇'] },
  { code: '370126', name: '商河县', roads: ['商中路', '长青路', '鑫源路', '富民路'], towns: ['玉皇庙镇', '白桥镇', '殷巷镇', '怀仁镇', '龙桑寺镇', '郑路镇', '贾庄镇'] },
];

// Where ordinary firms register (urban core heavy) versus agricultural entities (rural districts only).
const ENTERPRISE_DISTRICT_CUMULATIVE = cumulative([15, 12, 10, 10, 16, 6, 9, 5, 7, 3, 3, 4]);
const AGRI_DISTRICT_CUMULATIVE = cumulative([0, 0, 0, 0, 8, 14, 18, 16, 12, 5, 12, 15]);

function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, w) => sum + w, 0);
  let running = 0;
  return weights.map((w) => (running += w) / total);
}

// Shandong-weighted surnames (common ones repeated) and common given names.
const SURNAMES = [...'王王王张张张李李李刘刘孙孙赵杨陈徐马高于郭宋董孟韩房鲁田朱胡吕任姜崔曹石袁魏秦侯邢许周吴', '王', '张'];
const GIVEN = [
  '建国', '秀英', '志强', '玉兰', '桂英', '振华', '海燕', '立新', '红梅', '建华', '文杰', '丽娟', '永刚', '春雷', '晓东', '国庆',
  '德胜', '俊峰', '秀兰', '桂芳', '宝山', '明亮', '金花', '卫东', '淑珍', '凤英', '学军', '长青', '兆华', '庆华', '玉珍', '传法',
  '洪涛', '兴旺', '成林', '秀云', '广福', '继红', '素芹', '恒志', '强', '军', '伟', '磊', '静', '敏', '芳', '刚', '勇', '涛', '鹏',
  '霞', '燕', '娟', '辉', '波',
];
const TRADE = [...'明德华鑫源泰恒瑞盛宏远博信达通汇嘉诚凯丰润安康正和佳美新兴利祥金福永昌海天中鼎顺晟坤乾睿航宇晨益齐鲁泉'];
const INDUSTRIES = [
  '机械', '科技', '商贸', '建材', '电子', '食品', '物流', '餐饮管理', '建筑工程', '信息技术', '环保科技', '医疗器械', '纺织',
  '印务', '汽车配件', '化工', '新材料', '软件', '文化传媒', '装饰工程', '供应链管理', '电气设备', '钢结构', '包装', '家具',
  '服装', '广告', '物业管理', '教育咨询', '精密制造', '重工', '阀门', '能源科技', '生物科技', '数控设备',
];
const FORMS = ['有限公司', '有限公司', '有限公司', '有限公司', '有限公司', '有限公司', '有限责任公司', '股份有限公司'];
const MEDICAL_FORMS = [
  '医院有限公司', '口腔门诊部有限公司', '中医诊所有限公司', '大药房有限公司', '大药房连锁有限公司', '医药连锁有限公司',
  '康复医院有限公司', '综合门诊部有限公司',
];
// 药品经营许可证 class letters: A* wholesale, B* retail-chain headquarters, C* chain store, D* single pharmacy.
const LICENCE_CLASSES = ['AA', 'AB', 'BA', 'CA', 'CB', 'DA', 'DB'];

export type FarmingUnit = 'mu' | 'head';

/** One insurance product an entity of a farming type buys: the season it covers and the cover per unit. */
export interface InsuranceProduct {
  readonly type: string;
  readonly yuanPerUnit: number;
  /** Season start (month 1-12, day) and policy length in days. */
  readonly startMonth: number;
  readonly startDay: number;
  readonly days: number;
}

export interface FarmingType {
  readonly name: string;
  readonly unit: FarmingUnit;
  /** Word used in entity names, e.g. 蔬菜 in 某某蔬菜种植专业合作社. */
  readonly word: string;
  readonly verb: '种植' | '养殖';
  readonly scope: string;
  readonly products: readonly InsuranceProduct[];
  /** Head counts for livestock; ignored for crops, whose scale is their land. */
  readonly minHead: number;
  readonly maxHead: number;
}

// Wheat-maize rotation dominates Jinan's plains, with vegetables (and 章丘大葱), orchards, roses in 平阴 and livestock.
export const FARMING_TYPES: readonly FarmingType[] = [
  { name: '小麦、玉米', unit: 'mu', word: '粮食', verb: '种植', scope: '小麦、玉米种植、销售；农业技术推广服务', minHead: 0, maxHead: 0,
    products: [
      { type: '小麦完全成本保险', yuanPerUnit: 950, startMonth: 10, startDay: 10, days: 255 },
      { type: '玉米完全成本保险', yuanPerUnit: 900, startMonth: 6, startDay: 20, days: 115 },
    ] },
  { name: '蔬菜', unit: 'mu', word: '蔬菜', verb: '种植', scope: '蔬菜种植、销售；农产品初加工', minHead: 0, maxHead: 0,
    products: [{ type: '设施蔬菜种植保险', yuanPerUnit: 3000, startMonth: 1, startDay: 1, days: 365 }] },
  { name: '大葱', unit: 'mu', word: '大葱', verb: '种植', scope: '大葱种植、销售', minHead: 0, maxHead: 0,
    products: [{ type: '大葱种植保险', yuanPerUnit: 2000, startMonth: 4, startDay: 1, days: 240 }] },
  { name: '苹果', unit: 'mu', word: '果品', verb: '种植', scope: '水果种植、销售；农产品仓储', minHead: 0, maxHead: 0,
    products: [{ type: '苹果种植保险', yuanPerUnit: 4000, startMonth: 3, startDay: 1, days: 365 }] },
  { name: '桃', unit: 'mu', word: '林果', verb: '种植', scope: '桃种植、销售', minHead: 0, maxHead: 0,
    products: [{ type: '桃种植保险', yuanPerUnit: 3000, startMonth: 3, startDay: 1, days: 365 }] },
  { name: '玫瑰', unit: 'mu', word: '玫瑰', verb: '种植', scope: '玫瑰种植、初加工、销售', minHead: 0, maxHead: 0,
    products: [{ type: '玫瑰种植保险', yuanPerUnit: 2000, startMonth: 3, startDay: 15, days: 365 }] },
  { name: '中药材', unit: 'mu', word: '中药材', verb: '种植', scope: '中药材种植、销售', minHead: 0, maxHead: 0,
    products: [{ type: '中药材种植保险', yuanPerUnit: 1500, startMonth: 4, startDay: 1, days: 365 }] },
  { name: '生猪', unit: 'head', word: '生猪', verb: '养殖', scope: '生猪养殖、销售', minHead: 200, maxHead: 5000,
    products: [
      { type: '育肥猪养殖保险', yuanPerUnit: 800, startMonth: 1, startDay: 1, days: 365 },
      { type: '能繁母猪养殖保险', yuanPerUnit: 1500, startMonth: 1, startDay: 1, days: 365 },
    ] },
  { name: '奶牛', unit: 'head', word: '奶牛', verb: '养殖', scope: '奶牛养殖、生鲜乳收购', minHead: 50, maxHead: 800,
    products: [{ type: '奶牛养殖保险', yuanPerUnit: 10000, startMonth: 7, startDay: 1, days: 365 }] },
  { name: '肉牛', unit: 'head', word: '肉牛', verb: '养殖', scope: '肉牛养殖、销售', minHead: 30, maxHead: 500,
    products: [{ type: '肉牛养殖保险', yuanPerUnit: 8000, startMonth: 7, startDay: 1, days: 365 }] },
  { name: '肉羊', unit: 'head', word: '肉羊', verb: '养殖', scope: '肉羊养殖、销售', minHead: 100, maxHead: 2000,
    products: [{ type: '肉羊养殖保险', yuanPerUnit: 800, startMonth: 5, startDay: 1, days: 365 }] },
  { name: '蛋鸡', unit: 'head', word: '蛋鸡', verb: '养殖', scope: '蛋鸡养殖、鲜蛋销售', minHead: 5000, maxHead: 100000,
    products: [{ type: '蛋鸡养殖保险', yuanPerUnit: 30, startMonth: 1, startDay: 1, days: 365 }] },
];
const FARMING_CUMULATIVE = cumulative([34, 16, 6, 6, 5, 4, 4, 10, 4, 4, 3, 4]);
const PINGYIN = 10; // index of 平阴县: its rose growers make the demo recognisably Jinan

export type AgriCategory = 'family_farm' | 'cooperative' | 'agri_enterprise' | 'large_grower' | 'service_organization';
const AGRI_CATEGORIES: readonly AgriCategory[] = ['cooperative', 'agri_enterprise', 'family_farm', 'large_grower', 'service_organization'];
const AGRI_CATEGORY_CUMULATIVE = cumulative([30, 20, 30, 15, 5]);

export type InsuranceStatus = 'insured' | 'lapsed' | 'uninsured';

export interface AgriTraits {
  readonly category: AgriCategory;
  readonly idType: 'uscc' | 'resident_id';
  readonly idNumber: string;
  /** As the agriculture bureau spells it: the person's name for a large grower, else the enterprise name. */
  readonly entityName: string;
  readonly personInCharge: string;
  readonly location: string;
  /** Village-level part of the location, for transferor names of collectives. */
  readonly village: string;
  readonly farming: FarmingType;
  readonly onLargeGrowerList: boolean;
  readonly insurance: InsuranceStatus;
  readonly subsidies: number;
  readonly landTransfers: number;
}

export interface EnterpriseTraits {
  readonly index: number;
  readonly name: string;
  readonly uscc: string;
  readonly district: District;
  /** Days before asOf the enterprise was founded (>= 3 years, so the 24-month window is covered). */
  readonly foundedDaysAgo: number;
  readonly headcountBase: number;
  /** Contribution base per insured employee in whole yuan (employer rate is 7 %). */
  readonly wageBase: number;
  readonly arrears: number;
  /** Arrears as the trailing months (stopped paying) or scattered earlier months. */
  readonly arrearsTrailing: boolean;
  readonly settledArrears: boolean;
  readonly deferralMonths: number;
  readonly headcountDrop: boolean;
  readonly latePayer: boolean;
  readonly medical: boolean;
  readonly drugLicence: string | null;
  readonly agri: AgriTraits | null;
  readonly waterAccounts: number;
  readonly waterArrears: boolean;
  readonly electricityAccounts: number;
  readonly powerArrears: boolean;
  readonly powerSuspended: boolean;
  readonly gasAccounts: number;
  readonly gasArrears: boolean;
  /** Account-number stem unique to this enterprise (8 digits). */
  readonly accountStem: string;
}

// Shares (see population.ts for the full table). Distress (arrears or a headcount drop) triples the odds of
// utility trouble; BASE is chosen so the overall share still lands on the target: p * (1 + 2 * share(distressed)).
const P_ARREARS = 0.08;
const P_DROP_IF_ARREARS = 0.3;
const P_DROP_OTHERWISE = (0.1 - P_ARREARS * P_DROP_IF_ARREARS) / (1 - P_ARREARS);
const DISTRESSED = P_ARREARS + (1 - P_ARREARS) * P_DROP_OTHERWISE;
const distressAdjusted = (share: number, distressed: boolean, holders: number): number =>
  ((share / holders) * (distressed ? 3 : 1)) / (1 + 2 * DISTRESSED);

/** Precomputed per population: the permutations that make codes unique. */
export class IdentitySpace {
  readonly seedLo: number;
  readonly seedHi: number;
  private readonly orgCodes: AffinePermutation;
  private readonly people: AffinePermutation;
  private readonly accounts: AffinePermutation;
  readonly parcels: AffinePermutation;
  private readonly rng = new Rng();

  constructor(seed: number) {
    [this.seedLo, this.seedHi] = seedWords(seed);
    const base = hash32(this.seedLo, this.seedHi, 0x1d, 0);
    this.orgCodes = new AffinePermutation(100_000_000, base);
    this.people = new AffinePermutation(BIRTH_DAYS * 999, base ^ 0x51);
    this.accounts = new AffinePermutation(100_000_000, base ^ 0xacc);
    this.parcels = new AffinePermutation(1_000_000, base ^ 0xa9c);
  }

  /** The PRNG seed for (index, salt): each dataset reseeds its own Rng with it per enterprise. */
  seedFor(index: number, salt: number): number {
    return hash32(this.seedLo, this.seedHi, index, salt);
  }

  /** The traits stream; private to enterpriseTraits, which uses it start to finish without yielding. */
  traitsStream(index: number): Rng {
    return this.rng.reseed(this.seedFor(index, SALT_TRAITS));
  }

  /** Organisation code (GB 11714: 8 digits + check) unique to the index, then the full USCC. */
  uscc(category: '1' | '2' | '3', regionCode: string, index: number): string {
    const body = String(this.orgCodes.map(index)).padStart(8, '0');
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += Number(body.charAt(i)) * ORG_WEIGHTS[i]!;
    const c = 11 - (sum % 11);
    const first17 = `9${category}${regionCode}${body}${c === 10 ? 'X' : c === 11 ? '0' : String(c)}`;
    return first17 + usccCheckCharacter(first17);
  }

  /** Resident ID: birth date 1960-1995 and sequence from a permutation of the index, so unique. */
  residentId(regionCode: string, index: number): string {
    const p = this.people.map(index);
    const birth = formatCompactDate(BIRTH_START + (p % BIRTH_DAYS));
    const sequence = Math.floor(p / BIRTH_DAYS) + 1;
    const first17 = `${regionCode}${birth}${String(sequence).padStart(3, '0')}`;
    return first17 + residentIdCheckCharacter(first17);
  }

  accountStem(index: number): string {
    return String(this.accounts.map(index)).padStart(8, '0');
  }
}

const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;
const BIRTH_START = daysFromCivil(1960, 1, 1);
const BIRTH_DAYS = daysFromCivil(1996, 1, 1) - BIRTH_START;

function formatCompactDate(days: number): string {
  return formatDate(days).replace(/-/g, '');
}

const SALT_TRAITS = 0x7a17;

export function personName(rng: Rng): string {
  return rng.pick(SURNAMES) + rng.pick(GIVEN);
}

function tradeName(rng: Rng): string {
  const first = rng.pick(TRADE);
  let second = rng.pick(TRADE);
  if (second === first) second = TRADE[(TRADE.indexOf(first) + 7) % TRADE.length]!;
  return first + second;
}

// Village names in the usual north-China shape: position + surname + settlement word, e.g. 东王庄村.
const VILLAGE_HEADS = ['东', '西', '南', '北', '前', '后', '大', '小', '上', '下'];
const VILLAGE_TAILS = ['庄村', '屯村', '家村', '官庄村', '店村', '坡村', '家庄村'];

function villageName(rng: Rng): string {
  return rng.pick(VILLAGE_HEADS) + rng.pick(SURNAMES) + rng.pick(VILLAGE_TAILS);
}

// drawKind packs the first draws into one integer, so sparse datasets can skip most enterprises cheaply.
export const KIND_AGRI = 1;
export const KIND_MEDICAL = 2;
export const KIND_ARREARS = 4;
const ARREARS_SHIFT = 3; // 3 bits: 0-6 periods in arrears
const CATEGORY_SHIFT = 6; // index into AGRI_CATEGORIES

/** The first draws of an enterprise's traits stream: agricultural category, medical institution, arrears. */
function drawKind(rng: Rng): number {
  let kind = 0;
  if (rng.chance(0.12)) kind |= KIND_AGRI | (rng.tier(AGRI_CATEGORY_CUMULATIVE) << CATEGORY_SHIFT);
  else if (rng.chance(0.03 / 0.88)) kind |= KIND_MEDICAL;
  const arrears = rng.chance(P_ARREARS) ? rng.int(1, 6) : 0;
  if (arrears > 0) kind |= KIND_ARREARS | (arrears << ARREARS_SHIFT);
  return kind;
}

/** KIND_* bits of enterprise `index`: what enterpriseTraits would say, at a fraction of the cost. */
export function enterpriseKind(space: IdentitySpace, index: number): number {
  return drawKind(space.traitsStream(index));
}

/** Everything about enterprise `index` that more than one dataset needs, from (seed, index) alone. */
export function enterpriseTraits(space: IdentitySpace, index: number): EnterpriseTraits {
  const rng = space.traitsStream(index);
  // Draw order is fixed: changing it changes every population, which is fine but should be deliberate.
  const kind = drawKind(rng);
  const isAgri = (kind & KIND_AGRI) !== 0;
  const agriCategory = isAgri ? AGRI_CATEGORIES[kind >>> CATEGORY_SHIFT]! : null;
  const medical = (kind & KIND_MEDICAL) !== 0;
  const arrears = (kind >>> ARREARS_SHIFT) & 7;
  const district = DISTRICTS[rng.tier(isAgri ? AGRI_DISTRICT_CUMULATIVE : ENTERPRISE_DISTRICT_CUMULATIVE)]!;
  // Family farms date from the 2013 policy push and cooperatives from the 2007 law: agri entities are younger.
  const foundedDaysAgo = rng.int(3 * 365, (isAgri ? 12 : 25) * 365);
  // Log-uniform: many small employers, few large; farms and growers employ only a handful.
  const maxHeadcount =
    agriCategory === 'family_farm' || agriCategory === 'large_grower' ? 12
    : agriCategory === 'cooperative' || agriCategory === 'service_organization' ? 40
    : 200;
  const headcountBase = Math.round(Math.exp(rng.real(Math.log(3), Math.log(maxHeadcount))));
  const wageBase = Math.round(rng.real(3_800, 14_000) / 10) * 10;
  const arrearsTrailing = rng.chance(0.7);
  const settledArrears = arrears > 0 && rng.chance(0.25);
  const headcountDrop = rng.chance(arrears > 0 ? P_DROP_IF_ARREARS : P_DROP_OTHERWISE);
  const deferralMonths = arrears === 0 && rng.chance(0.05 / (1 - P_ARREARS)) ? rng.int(1, 3) : 0;
  const latePayer = rng.chance(arrears > 0 || headcountDrop ? 0.5 : 0.12);
  const distressed = arrears > 0 || headcountDrop;

  const waterAccounts = rng.chance(0.9) ? 1 + rng.tier([0.89, 0.98, 1]) : 0;
  const waterArrears = waterAccounts > 0 && rng.chance(distressAdjusted(0.06, distressed, 0.9));
  const electricityAccounts = rng.chance(0.95) ? 1 + rng.tier([0.85, 0.97, 1]) : 0;
  const powerArrears = electricityAccounts > 0 && rng.chance(distressAdjusted(0.04, distressed, 0.95));
  const powerSuspended = electricityAccounts > 0 && rng.chance(distressAdjusted(0.02, distressed, 0.95));
  const gasAccounts = rng.chance(0.6) ? 1 + rng.tier([0.95, 1]) : 0;
  const gasArrears = gasAccounts > 0 && rng.chance(distressAdjusted(0.02, distressed, 0.6));

  let name: string;
  let category: '1' | '2' | '3' = '1';
  let drugLicence: string | null = null;
  let agri: AgriTraits | null = null;
  if (agriCategory !== null) {
    let farming = FARMING_TYPES[rng.tier(FARMING_CUMULATIVE)]!;
    // Roses only in 平阴; service organisations serve crop land (trusteeship), not herds.
    if (farming.name === '玫瑰' && district !== DISTRICTS[PINGYIN]) farming = FARMING_TYPES[0]!;
    if (agriCategory === 'service_organization' && farming.unit === 'head') farming = FARMING_TYPES[0]!;
    const town = rng.pick(district.towns);
    const village = villageName(rng);
    const person = personName(rng);
    const prefix = `济南市${district.name}`;
    let entityName: string;
    let idType: 'uscc' | 'resident_id' = 'uscc';
    switch (agriCategory) {
      case 'cooperative':
        category = '3'; // USCC category 3: 农民专业合作社
        name = `${prefix}${tradeName(rng)}${farming.word}${farming.verb}专业合作社`;
        entityName = name;
        break;
      case 'agri_enterprise':
        name = `济南${tradeName(rng)}${rng.pick(['农业科技', '农业发展', '生态农业', '农牧'])}${rng.pick(FORMS)}`;
        entityName = name;
        break;
      case 'service_organization':
        name = `${prefix}${tradeName(rng)}${rng.pick(['农机服务专业合作社', '农业服务有限公司', '植保服务专业合作社'])}`;
        category = name.endsWith('合作社') ? '3' : '1';
        entityName = name;
        break;
      case 'family_farm':
        category = '2'; // registered as an individual business; the bureau files it under the farmer's ID
        idType = 'resident_id';
        name = `${prefix}${person}家庭农场`;
        entityName = name;
        break;
      case 'large_grower':
        category = '2';
        idType = 'resident_id';
        name = `${prefix}${person}${farming.word}${farming.verb}场`;
        entityName = person;
        break;
    }
    // Older Zhangqiu residents still carry the pre-2016 county-level code 370181.
    const idRegion = district.code === '370114' && rng.chance(0.5) ? '370181' : district.code;
    const subsidiesTier = rng.tier([0.25, 0.55, 0.8, 0.92, 1]);
    agri = {
      category: agriCategory,
      idType,
      idNumber: '',
      entityName,
      personInCharge: person,
      location: `济南市${district.name}${town}${village}`,
      village: `${district.name}${town}${village}`,
      farming,
      onLargeGrowerList:
        agriCategory === 'large_grower' ||
        (agriCategory === 'family_farm' && rng.chance(0.4)) ||
        (agriCategory === 'cooperative' && rng.chance(0.1)),
      insurance: (['insured', 'lapsed', 'uninsured'] as const)[rng.tier([0.75, 0.9, 1])]!,
      subsidies: subsidiesTier,
      landTransfers: agriCategory === 'service_organization' ? 0 : rng.tier([0.25, 0.65, 0.9, 1]),
    };
    if (idType === 'resident_id') agri = { ...agri, idNumber: space.residentId(idRegion, index) };
  } else if (medical) {
    name = `济南${tradeName(rng)}${rng.pick(MEDICAL_FORMS)}`;
    if (rng.chance(0.8)) drugLicence = `鲁${rng.pick(LICENCE_CLASSES)}531${String(rng.int(0, 9999)).padStart(4, '0')}`;
  } else {
    name = `${rng.chance(0.82) ? '济南' : '山东'}${tradeName(rng)}${rng.pick(INDUSTRIES)}${rng.pick(FORMS)}`;
  }
  const uscc = space.uscc(category, district.code, index);
  if (agri !== null && agri.idType === 'uscc') agri = { ...agri, idNumber: uscc };

  return {
    index,
    name,
    uscc,
    district,
    foundedDaysAgo,
    headcountBase,
    wageBase,
    arrears,
    arrearsTrailing,
    settledArrears,
    deferralMonths,
    headcountDrop,
    latePayer,
    medical,
    drugLicence,
    agri,
    waterAccounts,
    waterArrears,
    electricityAccounts,
    powerArrears,
    powerSuspended,
    gasAccounts,
    gasArrears,
    accountStem: space.accountStem(index),
  };
}

/** The traits a README or CLI would mention, in a fixed order. */
export function profileOf(traits: EnterpriseTraits): string[] {
  const profile: string[] = [];
  if (traits.arrears > 0) profile.push('arrears');
  if (traits.settledArrears) profile.push('settled_arrears');
  if (traits.deferralMonths > 0) profile.push('deferral');
  if (traits.headcountDrop) profile.push('headcount_drop');
  if (traits.latePayer) profile.push('late_payer');
  if (traits.medical) profile.push('private_medical');
  if (traits.drugLicence !== null) profile.push('drug_licence');
  const agri = traits.agri;
  if (agri !== null) {
    profile.push('agri', `agri_${agri.category}`, `agri_id_${agri.idType}`);
    if (agri.onLargeGrowerList) profile.push('large_grower_list');
    profile.push(`agri_insurance_${agri.insurance}`);
    if (agri.subsidies > 0) profile.push('agri_subsidies');
    if (agri.landTransfers > 0) profile.push('land_transfers');
  }
  if (traits.waterAccounts === 0) profile.push('no_water');
  if (traits.waterArrears) profile.push('water_arrears');
  if (traits.electricityAccounts === 0) profile.push('no_electricity');
  if (traits.powerArrears) profile.push('power_arrears');
  if (traits.powerSuspended) profile.push('power_suspended');
  if (traits.gasAccounts > 0) profile.push('gas');
  if (traits.gasArrears) profile.push('gas_arrears');
  return profile;
}
