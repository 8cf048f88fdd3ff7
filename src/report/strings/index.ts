import type { ReportLang } from '../data.js';
import { auditEn } from './audit.en.js';
import { auditZh } from './audit.zh-CN.js';
import { incidentEn } from './incident.en.js';
import { incidentZh } from './incident.zh-CN.js';
import type { AuditStrings, IncidentStrings } from './types.js';

// Every report in every language: a language missing here, or a string missing in one, fails to compile.

export type * from './types.js';
export { isoShort, type LangFormat } from './format.js';

const INCIDENT: Record<ReportLang, IncidentStrings> = { en: incidentEn, 'zh-CN': incidentZh };
const AUDIT: Record<ReportLang, AuditStrings> = { en: auditEn, 'zh-CN': auditZh };

export const incidentStrings = (lang: ReportLang): IncidentStrings => INCIDENT[lang];
export const auditStrings = (lang: ReportLang): AuditStrings => AUDIT[lang];
