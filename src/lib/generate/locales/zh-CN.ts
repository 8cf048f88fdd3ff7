// zh-CN tables. Sources (shares are published figures where stated, otherwise estimates that
// follow the published shape; all are normalised over the listed entries when sampled):
// - Surnames 1–20: 2010 census sample, National Bureau of Statistics (reported by 现代快报,
//   2014-06-25: 王 7.10 %, 李 6.96 %, 张 6.42 % …).
// - Surnames 21–100: order of the Ministry of Public Security's 2019/2020 "百家姓" (《二〇一九年
//   全国姓名报告》); shares interpolated between its anchors: 23 surnames above 10 million people,
//   万 2.75 M and 欧 2.61 M at the bottom of the top 100, top 100 = 85.9 % of the population.
//   Ranks 101+ are a geometric tail (0.185 % → 0.03 %) that carries roughly the remaining 14 %.
// - Given-name characters: MPS name reports (top characters 英 华 玉 秀 文 明 兰 金 国 春 …;
//   most common full names 张伟 王伟 李娜), weighted by tiers for people born 1980–2000; newborn
//   characters from the 2018–2020 reports (梓 子 宇 涵 泽 浩 轩 欣 怡 诺 …; 92.9 % of 2018
//   newborns got three-character names, 4.6 % two-character ones).
// - Sex ratio at birth 111.3 (2020 census). Mean maternal age 29.5, sd 4.5 (project brief; the
//   2020 census mean age at childbearing was ≈ 29.1 and rising). Caesarean rate 40 % (brief;
//   national figures are 34.9 % in 2014 and 36.7 % in 2018, Li H-T et al., JAMA 2017 and 2020,
//   with city hospitals higher). Hour and weekday shapes are estimates following hospital-birth
//   studies: fewer births at night, a scheduled-caesarean peak from 08:00, ≈ 15 % fewer at weekends.
import type { Sex } from '../../../domain/index.js';
import { characterNames, pad2, pairs, tail, tiers, type LocaleTables } from '../locale.js';
import { weightedTable } from '../random.js';

const SURNAMES = [
  ...pairs(`
    王 7.10 李 6.96 张 6.42 刘 5.16 陈 4.26 杨 2.97 黄 2.16 赵 2.03 周 1.88 吴 1.78
    徐 1.43 孙 1.39 马 1.34 胡 1.16 朱 1.14 郭 1.09 何 1.05 罗 1.00 高 0.97 林 0.96
    郑 0.93 梁 0.85 谢 0.76 宋 0.72 唐 0.71 许 0.70 韩 0.68 冯 0.67 邓 0.66 曹 0.65
    彭 0.64 曾 0.63 肖 0.61 田 0.60 董 0.59 袁 0.58 潘 0.57 于 0.56 蒋 0.55 蔡 0.54
    余 0.53 杜 0.53 叶 0.52 程 0.51 苏 0.50 魏 0.49 吕 0.48 丁 0.47 任 0.46 沈 0.46
    姚 0.45 卢 0.44 姜 0.43 崔 0.43 钟 0.42 谭 0.41 陆 0.40 汪 0.40 范 0.39 金 0.38
    石 0.38 廖 0.37 贾 0.36 夏 0.36 韦 0.35 付 0.34 方 0.34 白 0.33 邹 0.33 孟 0.32
    熊 0.32 秦 0.31 邱 0.31 江 0.30 尹 0.29 薛 0.29 闫 0.28 段 0.28 雷 0.27 侯 0.27
    龙 0.27 史 0.26 陶 0.26 黎 0.25 贺 0.25 顾 0.24 毛 0.24 郝 0.23 龚 0.23 邵 0.23
    万 0.22 钱 0.22 严 0.21 覃 0.21 武 0.21 戴 0.20 莫 0.20 孔 0.20 向 0.19 欧 0.19`),
  ...tail(`
    汤 常 温 康 施 文 牛 樊 葛 邢 安 齐 易 乔 伍 庞 颜 倪 庄 聂 章 鲁 岳 翟 殷 詹 申 耿 关 兰
    焦 俞 左 柳 甘 祝 包 宁 尚 符 舒 阮 柯 纪 梅 童 凌 毕 单 季 裴 霍 涂 成 苗 谷 盛 曲 翁 冉
    骆 蓝 路 游 辛 靳 管 柴 蒙 鲍 华 喻 祁 蒲 房 滕 屈 饶 解 牟 艾 尤 阳 时 穆 农 司 卓 古 吉
    缪 简 车 项 连 芦 麦 褚 娄 窦 戚 岑 景 党 宫 费 卜 冷 晏 席 卫 米 柏 宗 瞿 桂 全 佟 应 臧
    闵 苟 邬 边 卞 姬 师 和 仇 栾 隋 商 刁 沙 荣 巫 寇 桑 郎 甄 丛 仲 虞 敖 巩 明 佘 池 查 麻
    苑 迟 邝 欧阳 上官 司马 诸葛`, 0.185, 0.03),
];

// Given names of people born 1980–2000: first character of two-character names, then second
// character (also used for one-character names). Weights are usage tiers, not exact counts. The
// last tier is a long tail of rarer name characters usable in either position: real names draw
// on thousands of characters, and a batch of canaries that must stay more than one edit apart
// exhausts a short list within a common surname (王 alone is ~7 % of mothers).
const WOMEN_TAIL = '蔼艾爱安傲芭白柏宝贝蓓碧冰波彩灿婵畅超晨澄楚春纯翠黛丹迪蝶冬朵娥恩帆芳菲斐芬丰凤芙馥格歌谷桂海含晗寒涵菡浩禾和荷鹤红虹鸿华桦欢环卉慧惠蕙佳嘉佼娇姣洁婕今金锦瑾槿晶菁静靖娟君珺凯可岚兰蓝澜乐蕾黎丽莉俐利立莲涟怜良琳霖玲凌铃灵翎柳露璐鹭绿曼蔓漫梅美媚萌梦蜜敏茗明娜楠妮霓念宁凝暖诺欧佩沛芃鹏萍琪琦绮淇倩茜巧芹琴沁青清晴琼秋蓉容融如茹蕊瑞若珊姗杉韶诗姝淑舒书曙霜双爽顺思松素穗桃恬甜彤桐童婉宛琬菀薇维伟玮卫文雯汶希曦熙溪霞夏仙娴贤香湘晓筱笑心欣馨昕新星杏秀萱璇雪雅亚妍研岩彦燕艳阳瑶遥叶依怡仪宜颐艺亦忆逸茵荫银吟英瑛莺樱颖影映莹滢咏优悠幽友瑜榆雨语玉钰毓元园媛源远苑月悦跃越云芸韵蕴筠允珍真臻蓁芝芷智致忠钟竹姿紫梓子';
const MEN_TAIL = '安昂傲柏邦宝保北贝彪斌彬炳波博才灿昌畅超朝辰晨宸成承诚程驰崇楚川春淳聪存达大丹道德登迪笛东栋冬铎恩帆凡方飞丰峰锋枫福甫富钢刚高歌耕功冠光广贵国海涵寒汉翰昊浩皓灏和河贺鹤恒弘宏红洪鸿厚虎华桦怀焕辉晖慧吉纪继佳家嘉坚建剑健江杰捷金锦进晋京经精景敬靖静炯九久俊峻骏凯恺楷康克可坤昆阔朗乐雷磊黎礼立力利连良亮林霖麟凌龙隆禄路伦罗迈茂敏明鸣铭墨牧南楠宁沛鹏平浦朴齐其奇琦启谦乾强桥钦勤青清庆秋全泉群然仁荣容锐瑞润若森善尚少绍胜盛圣诗石实世仕守书舒帅双顺硕思松颂涛腾天田铁廷庭通同彤维伟卫蔚文闻稳武熙曦希喜贤翔向晓啸孝心新鑫信星兴雄修旭轩宣学雪勋迅亚岩炎彦扬阳洋尧耀业一义亦奕毅逸翼银寅英膺永勇友佑宇羽雨玉煜裕元源远越跃云运泽增展占章昭哲振征正政之志致智中忠仲舟洲柱卓子宗祖尊左作';
const WOMEN_FIRST = tiers([
  [10, '晓丽雪春海秀玉思佳梦'],
  [7, '美文欣婷静慧红艳小金雨丹燕'],
  [5, '晶淑亚凤桂建琳月雅嘉新心紫子立志惠彩翠雯冬秋明'],
  [3, '诗可若一晨佩倩冰爱会妍颖瑞珊洁敏芳莉蕾碧素璐宇银永方玲兰菊梅清琴晴笑书舒蓓凌露琪娟婉媛娜萍英华云霞宏旭'],
  [2, '亭安宁怡馨楚语沁芷芸莹菲薇蓉青俊君卓咏启坤如妙姝姗婕婧嫣宛宜家寒少岚巧希幸彦微忆念悦慈昕星'],
  [1, '晗曼朝杏松柳桐欢水沛泓洋津润湘滢潇澜灵炜珂珍琦瑜瑶璇盈真睿知秉纯绮维美羽翔聪艺芬芳茵茹荣莎蔚蕊虹语诗谨贞赛超迎逸金钰锦镜长雁霏韵顺飞香馨鑫黛佩依俐双琬婵曦'],
  [0.5, WOMEN_TAIL],
]);
const WOMEN_SECOND = tiers([
  [10, '丽婷静敏燕芳娜'],
  [8, '丹玲萍红艳霞娟'],
  [6, '英华梅兰琴莉琳雪慧倩颖洁'],
  [4, '佳晶璐琪瑶欣怡悦蕾薇晨雯月楠莹茜菲宁萌妍蓉君娇凤云'],
  [3, '秀平珍玉荣青芬洋琼曼翠婧媛婕婉娴妮姗珊'],
  [2, '瑾璇瑜琦瑞莎蓓蕊菁萱芸芝苗荷菊露霏雨雁虹岚彤馨涵畅可心然姣嫣婵芮冰清晴'],
  [1, '凡欢娥宏昕晗曦桐梦楚灵爽环玥珂琛琰璟甜眉竹笑筱素絮维美翎聪舒艺芹茹菡萤蔚蕙蕴诗语贞迪韵颜飞香鑫鸿黛羽佩依俐黎双琬容乐薇卉娉婀姿嫦娅媚宛宜寒岑巧希彦怀惠慈敏捷文斐旭昭晓景春柔桂梓欣淑湘滢潇澄灿炫烨熙琦琬'],
  [0.5, WOMEN_TAIL],
]);
const MEN_FIRST = tiers([
  [10, '建志国晓小文海俊'],
  [7, '明永伟家子振春天立宏金德'],
  [5, '一新云嘉世浩宇鹏红军晨东学长成兴光庆中'],
  [3, '思佳博雨少俊凯宝晋嘉峻敬景智瑞锦玉秀大正利昌朝亚志胜彦泽洪涛佳'],
  [2, '安宁平和江河山林松柏杰辉斌鑫磊毅健勇刚强承继君英雄卫炳源福寿喜雷'],
  [1, '子昊一铭宸宏达亮逸飞航远怀恩旭冬秋玄鸿鹤腾奇旺昆仑向阳梓楠守良善泰恒启锐晟岩勤俭振华'],
  [1, '丰为乐书亦仁伯信修元兆先克全兵冠凌凡勋卓占双发君和品善国坚培基士声太奎孝守宗宪宾尚崇川帅庆广庭开弘彬忠恺悦成戎斌方昌晋朗本柱森正武毅汉沛泉波浩湘滨炳焕熙玮琪生田百益盛相真石礼祖祥福秉程章端纪维耀育自舟良若茂虎蒙行裕西言誉诚谷贤跃路辉进述道邦铁锡阔隆雄雷青靖韬顺颖鸣麟黎鼎龙'],
  [0.5, MEN_TAIL],
]);
const MEN_SECOND = tiers([
  [10, '伟磊强军勇杰涛'],
  [7, '斌超明刚平辉鹏华飞鑫波'],
  [5, '宇浩凯健俊帆帅旭宁龙林峰亮'],
  [3, '成东洋阳晨博文雷彬坤毅锋楠民军国兵斌新春生荣福海江波涛'],
  [2, '磊鹏程杰松山川洪源泉亮翔航然轩辰星光明志刚强健康安庆祥瑞宏远鸣琦琛瑜璋昊晖晟旻昕'],
  [1, '凡坚实威武立德良才彪豹虎龙飞腾跃达迪逸钊铭锐鑫钦铎谦诚信义仁礼智勇毅恒忠孝宝贵富裕丰盛茂岩峻嵘崇岭巍栋梁材杉桐森柏樟炜烨焕炎煜熠烁炯灿霖霆雨露雪霄震宸宙安定寰宁宣宥容'],
  [1, '业义乐仁伦佑侠俭冬功勋卫友发君吉和哲嘉培基增士奇威存寅尊岳峻帆年康廷彦征志恩悦敏昆昌晋曦朗树桥楷永汉沛河泓洲浚渊滨澄灏烈焱牧玮珂璞甫申畅石禹秀科秋稳立章竣策纬绍罡群翰耀聪胜舟艺芃苏衡西誉谊豪贤赫越路迪逍通遥邦郁钧铖镇闯阔隆雄青靖韬顺颂骏鹤麒麟鼎'],
  [0.5, MEN_TAIL],
]);

// Babies born in the 2020s.
const GIRLS_FIRST = tiers([
  [10, '梓子欣一依语雨'],
  [6, '可诗思若梦佳嘉紫安沐芷'],
  [3, '雅艺奕亦心舒婉乐书晓星米小锦芊悠清'],
  [1, '初予妍宛昕晴卿瑾钰馨黛婧琪瑶恩惜念悦慕洛'],
]);
const GIRLS_SECOND = tiers([
  [10, '涵怡诺桐汐妍萱'],
  [6, '彤琪瑶欣然悦宁琳曦菲'],
  [3, '淇雯晴颜玥萌柔依童希畅歆琦瑾钰霏夕澄芯'],
  [1, '安瑜蕾冉语宸橙苒岚露菡茉莉'],
]);
const BOYS_FIRST = tiers([
  [10, '浩宇子梓奕亦一'],
  [6, '沐俊皓铭锦睿思嘉承明天博'],
  [3, '宸家泽云煜晨君景昊若文乐瑞星誉致逸'],
  [1, '书凯翊言修恩知谦煦圣骏鸿'],
]);
const BOYS_SECOND = tiers([
  [10, '轩宇辰宸然泽'],
  [6, '睿航墨豪熙阳铭哲霖'],
  [3, '程川博诚杰凯翔恒森朗晨逸宁安远'],
  [1, '皓尧珩瑾铄颢琛锐楷彬昊卿诺骁'],
]);

// Road names common across Chinese cities; the district comes from the hospital's catchment.
const ROADS = [
  '中山', '人民', '解放', '建设', '和平', '长江', '黄河', '北京', '南京', '上海', '新华', '文化',
  '光明', '胜利', '东风', '青年', '工业', '幸福', '民主', '团结', '友谊', '学府', '迎宾', '滨江',
  '湖滨', '体育', '健康', '兴业', '广场', '朝阳', '育才', '花园', '环城', '金桥', '凤凰', '锦绣',
  '龙江', '丽水', '紫金', '梧桐', '银杏', '春晖', '振兴', '复兴', '太平', '江南', '钟楼', '书院',
];
const DIRECTIONS = ['', '', '', '东', '西', '南', '北', '中'];
const roadTable = weightedTable(tail(ROADS.join(' '), 3, 1));

/** Before a newborn is named, records call it "<mother's full name>'s son/daughter". */
const PLACEHOLDER: Record<Sex, string> = { male: '之子', female: '之女' };

/** Every character a generated name can hold: what a target column must be able to store (MySQL gbk, latin1). */
const NAME_CHARACTERS = [...new Set([SURNAMES, WOMEN_FIRST, WOMEN_SECOND, MEN_FIRST, MEN_SECOND, GIRLS_FIRST, GIRLS_SECOND, BOYS_FIRST, BOYS_SECOND]
  .flatMap((table) => table.flatMap(([name]) => [...name])).concat([...Object.values(PLACEHOLDER).join('')]))].join('');

export const zhCN: LocaleTables = {
  locale: 'zh-CN',
  nameCharacters: NAME_CHARACTERS,
  surnames: weightedTable(SURNAMES),
  given: {
    female: { parent: characterNames(0.15, WOMEN_FIRST, WOMEN_SECOND), baby: characterNames(0.05, GIRLS_FIRST, GIRLS_SECOND) },
    male: { parent: characterNames(0.15, MEN_FIRST, MEN_SECOND), baby: characterNames(0.05, BOYS_FIRST, BOYS_SECOND) },
  },
  fullName: (family, given) => family + given,
  sexRatio: 1.11,
  motherAge: { mean: 29.5, sd: 4.5, min: 20, max: 45 },
  fatherAgeGap: { mean: 2.5, sd: 3, minAge: 20, maxAge: 70 },
  birthWeight: { mean: 3300, sd: 450, min: 1500, max: 4800 },
  nicuWeight: { mean: 2400, sd: 600, min: 500, max: 4800 },
  caesareanRate: 0.4,
  stayDays: { vaginal: [2, 3], caesarean: [4, 6], nicu: [7, 21] },
  hourWeights: {
    //         0    1    2    3    4    5    6    7    8    9   10   11   12   13   14   15   16   17   18   19   20   21   22   23
    vaginal:   [3.6, 3.5, 3.4, 3.4, 3.4, 3.5, 3.7, 4.0, 4.4, 4.6, 4.7, 4.7, 4.6, 4.6, 4.6, 4.6, 4.5, 4.4, 4.3, 4.2, 4.1, 4.0, 3.9, 3.7],
    caesarean: [1.2, 1.0, 1.0, 0.9, 0.9, 1.0, 1.2, 2.0, 9.0, 11, 11, 9.5, 6.0, 5.0, 6.5, 6.5, 5.5, 4.5, 3.0, 2.5, 2.2, 1.8, 1.6, 1.4],
  },
  weekdayWeights: [0.88, 1.03, 1.04, 1.03, 1.03, 1.02, 0.88],
  motherPhoneShare: 1,
  fatherShare: 0.95,
  fatherPhoneShare: 0.75,
  sharedSurnameShare: 0, // women keep their own surname
  emailShare: 0.45,
  emailLocal: (rng, name, birthDate) => {
    const [family, ...given] = name.latin.toLowerCase().split(' ');
    const g = given.join('');
    const initials = name.latin.toLowerCase().match(/\b\w/g)?.join('') ?? family.charAt(0);
    const year = birthDate.slice(0, 4), yy = birthDate.slice(2, 4), mmdd = birthDate.slice(5, 7) + birthDate.slice(8, 10);
    const lucky = rng.pick(['520', '1314', '666', '888', '123', String(rng.int(1, 99)), String(rng.int(100, 9999))]);
    return rng.weighted<() => string>([
      // QQ numbers of this generation are mostly 9–10 digits; 10-digit ones start with 1–3.
      [() => String(rng.int(10_000_000, 99_999_999)), 0.06],
      [() => String(rng.int(100_000_000, 999_999_999)), 0.2],
      [() => String(rng.int(1_000_000_000, 3_999_999_999)), 0.16],
      [() => `${family}${g}${year}`, 0.08],
      [() => `${family}${g}${yy}`, 0.06],
      [() => `${family}${g}${lucky}`, 0.08],
      [() => `${family}${g}`, 0.06],
      [() => `${g}${family}`, 0.02],
      [() => `${family}.${g}`, 0.03],
      [() => `${g}_${family}`, 0.02],
      [() => `${initials}${year}`, 0.05],
      [() => `${initials}${mmdd}`, 0.05],
      [() => `${initials}${lucky}`, 0.05],
      [() => `${g}${yy}${mmdd}`, 0.03],
      [() => `${g}${lucky}`, 0.05],
    ])();
  },
  address: (rng, district) => {
    const street = `${roadTable.sample(rng)}${rng.pick(DIRECTIONS)}路${rng.int(1, 399)}号`;
    const room = `${rng.int(1, 33)}${pad2(rng.int(1, 4))}`;
    return { district, street, full: `${district}${street}${rng.int(1, 36)}栋${rng.int(1, 6)}单元${room}室` };
  },
  babyPlaceholderShare: 0.7,
  babyPlaceholder: (mother, sex) => ({ family: mother.family, given: mother.given + PLACEHOLDER[sex] }),
};
