"""Fixed vocabularies from national standards and DOMAIN.md.

Values stored in the database are the codes on the left; the window shows the
Chinese labels.
"""

from __future__ import annotations

ROLES = {"desk": "前台", "supervisor": "站长", "admin": "管理员"}
ROLE_RANK = {"desk": 1, "supervisor": 2, "admin": 3}

STATION_LEVELS = {"community": "社区", "village": "村", "street": "街道/乡镇（汇总中心）"}

# GB/T 2261.1
GENDERS = {0: "未知", 1: "男", 2: "女", 9: "未说明"}

DOC_TYPES = {
    "ric": "居民身份证",
    "hk_mo_permit": "港澳居民来往内地通行证",
    "tw_permit": "台湾居民来往大陆通行证",
    "hmt_residence": "港澳台居民居住证",
    "foreign_pr": "外国人永久居留身份证",
    "passport": "护照",
    "other": "其他证件",
}

RESIDENCY = {"registered": "户籍", "resident": "常住", "floating": "流动"}

# Special-group tags used in community ledgers (DOMAIN.md).
SPECIAL_GROUPS = (
    "高龄",
    "独居",
    "空巢",
    "留守老人",
    "失能失智",
    "残疾人",
    "低保",
    "特困",
    "优抚对象",
    "留守儿童",
    "困境儿童",
    "流动人口",
    "计生特殊家庭",
)

RELATIONS = ("户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "兄弟姐妹", "儿媳", "女婿", "其他")

# GB/T 3304 民族 codes.
ETHNICITIES = {
    "01": "汉族",
    "02": "蒙古族",
    "03": "回族",
    "04": "藏族",
    "05": "维吾尔族",
    "06": "苗族",
    "07": "彝族",
    "08": "壮族",
    "09": "布依族",
    "10": "朝鲜族",
    "11": "满族",
    "12": "侗族",
    "13": "瑶族",
    "14": "白族",
    "15": "土家族",
    "16": "哈尼族",
    "17": "哈萨克族",
    "18": "傣族",
    "19": "黎族",
    "20": "傈僳族",
    "21": "佤族",
    "22": "畲族",
    "23": "高山族",
    "24": "拉祜族",
    "25": "水族",
    "26": "东乡族",
    "27": "纳西族",
    "28": "景颇族",
    "29": "柯尔克孜族",
    "30": "土族",
    "31": "达斡尔族",
    "32": "仫佬族",
    "33": "羌族",
    "34": "布朗族",
    "35": "撒拉族",
    "36": "毛南族",
    "37": "仡佬族",
    "38": "锡伯族",
    "39": "阿昌族",
    "40": "普米族",
    "41": "塔吉克族",
    "42": "怒族",
    "43": "乌孜别克族",
    "44": "俄罗斯族",
    "45": "鄂温克族",
    "46": "德昂族",
    "47": "保安族",
    "48": "裕固族",
    "49": "京族",
    "50": "塔塔尔族",
    "51": "独龙族",
    "52": "鄂伦春族",
    "53": "赫哲族",
    "54": "门巴族",
    "55": "珞巴族",
    "56": "基诺族",
}

# First two digits of a GB 11643 number / GB/T 2260 code.
PROVINCE_PREFIXES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66), 71, 81, 82, 83]
)
