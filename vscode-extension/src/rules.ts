/**
 * Rule codes offered by "hplint: Explain Rule…", with their names and summary
 * lines. Generated at build time from the rule catalogue (`rules/HPL*.md`) by
 * `scripts/gen-rules.mjs`; `hplint rule <CODE>` is the source of the text.
 */

import { GENERATED_RULES } from './generated/rules';

export interface RuleEntry {
    code: string;
    name: string;
    severity: string;
    summary: string;
    /** `hplint probe` measures its findings. */
    probe: boolean;
}

export const RULES: readonly RuleEntry[] = GENERATED_RULES;

export const RULE_CODE = /^HPL\d{3}$/;

/** Normalise user input (`hpl1`, ` HPL001 `) to a code, or undefined. */
export function normaliseRuleCode(input: string): string | undefined {
    const match = /^\s*hpl\s*0*(\d{1,3})\s*$/i.exec(input);
    if (!match) {
        return undefined;
    }
    return `HPL${match[1].padStart(3, '0')}`;
}
