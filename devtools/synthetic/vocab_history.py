"""Vocabulary for what a real Synthea export holds besides vitals and core labs: surveys with long questions
and text answers, QALY/DALY/QOLS rows, more labs, social-history findings, pregnancies, deaths,
medications, allergies, procedures and immunizations (shared reference: real-data.md, clinical.md 3.1).

Codes and descriptions are written the way Synthea writes them (including its double spaces in vaccine
names); the app must cope with every one of them.
"""

from __future__ import annotations

DECLINED = "I choose not to answer this question"

# Surveys: (code, description, unit, answers). answers is a tuple of text answers (TYPE text) or a
# (low, high) pair of whole numbers (TYPE numeric). Grouped by instrument; each instrument is asked whole.
PRAPARE = (
    ("56051-6", "Do you consider yourself Hispanic/Latino?", "", ("Yes", "No", DECLINED)),
    ("32624-9", "Race", "", ("White", "Black or African American", "Asian", "Other race", DECLINED)),
    ("93035-4", ("At any point in the past 2 years has season or migrant farm work been your or your family's main "
                "source of income?"), "", ("No", "Yes", DECLINED)),
    ("93034-7", "Have you been discharged from the armed forces of the United States?", "", ("No", "Yes", DECLINED)),
    ("54899-0", "Preferred language", "", ("English", "Spanish", "Portuguese", "Chinese", DECLINED)),
    ("63512-8", "How many family members  including yourself  do you currently live with?", "{#}", (1, 7)),
    ("71802-3", "Housing status", "", ("I have housing", ("I do not have housing (staying with others  in a hotel  "
                                       "in a shelter  living outside on the street  on a beach  in a car  or in a "
                                       "park)"), DECLINED)),
    ("93033-9", "Are you worried about losing your housing?", "", ("No", "Yes", DECLINED)),
    ("56799-0", "What address do you live at?", "", ("Main Street", "Oak Avenue", "Harbor Way")),
    ("82589-3", "Highest level of education", "", ("High school diploma or GED", "More than high school",
                                                    "Less than high school", DECLINED)),
    ("67875-5", "Employment status - current", "", ("Full-time work", "Part-time or temporary work", "Unemployed",
                                                   ("Otherwise unemployed but not seeking work (ex: student  "
                                                   "retired  disabled  unpaid primary care giver)"))),
    ("76437-3", "Primary insurance", "", ("Medicare", "Medicaid", "Private insurance", "None/uninsured")),
    ("63586-2", ("What was your best estimate of the total income of all family members from all sources  before "
                "taxes  in last year?"), "/a", (9000, 180000)),
    ("93031-3", ("In the past year  have you or any family members you live with been unable to get any of the "
                "following when it was really needed? Choose all that apply."), "",
     ("Food", "Clothing", "Utilities", "Medicine or any health care (medical  dental  mental health  vision)",
      "Phone", DECLINED)),
    ("93030-5", ("Has lack of transportation kept you from medical appointments  meetings  work  or from getting "
                "things needed for daily living?"), "",
     ("No", "Yes  it has kept me from medical appointments or from getting my medications", DECLINED)),
    ("93029-7", ("How often do you see or talk to people that you care about and feel close to (For example: "
                "talking to friends on the phone  visiting friends or family  going to church or club meetings)?"),
     "", ("5 or more times a week", "3 to 5 times a week", "1 or 2 times a week", "Less than once a week",
          DECLINED)),
    ("93038-8", "Stress level", "", ("Not at all", "A little bit", "Somewhat", "Quite a bit", "Very much",
                                     DECLINED)),
    ("93028-9", ("In the past year  have you spent more than 2 nights in a row in a jail  prison  detention "
                "center  or juvenile correctional facility?"), "", ("No", "Yes", DECLINED)),
    ("93027-1", "Are you a refugee?", "", ("No", "Yes", DECLINED)),
    ("93026-3", "Do you feel physically and emotionally safe where you currently live?", "",
     ("Yes", "No", "Unsure", DECLINED)),
    ("76501-6", "Within the last year  have you been afraid of your partner or ex-partner?", "",
     ("No", "Yes", "Unsure", "I have not had a partner in the past year", DECLINED)),
    ("93025-5", "Protocol for Responding to and Assessing Patients' Assets  Risks  and Experiences [PRAPARE]", "{score}",
     (0, 14)),
)
_FREQUENCY = ("Not at all", "Several days", "More than half the days", "Nearly every day")
PHQ2 = (
    ("44250-9", "Little interest or pleasure in doing things?", "", _FREQUENCY),
    ("44255-8", "Feeling down  depressed  or hopeless?", "", _FREQUENCY),
    ("55758-7", "Patient Health Questionnaire 2 item (PHQ-2) total score [Reported]", "{score}", (0, 6)),
)
GAD7 = (
    ("69725-0", "Feeling nervous  anxious or on edge", "", _FREQUENCY),
    ("68509-9", "Over the past 2 weeks have you been bothered by not being able to stop or control worrying", "",
     _FREQUENCY),
    ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]", "{score}", (0, 21)),
)
AUDIT_C = (
    ("68518-0", "How often do you have a drink containing alcohol?", "",
     ("Never", "Monthly or less", "2-4 times a month", "2-3 times a week", "4 or more times a week")),
    ("68519-8", "How many standard drinks containing alcohol do you have on a typical day?", "",
     ("1 or 2", "3 or 4", "5 or 6", "7 to 9", "10 or more")),
    ("68520-6", "How often do you have 6 or more drinks on 1 occasion?", "",
     ("Never", "Less than monthly", "Monthly", "Weekly", "Daily or almost daily")),
    ("75626-2", "Total score [AUDIT-C]", "{score}", (0, 12)),
)
HARK = (("76504-0", "Humiliation  Afraid  Rape  and Kick questionnaire [HARK]", "{score}", (0, 4)),)
DAST10 = (("82667-7", "Total score [DAST-10]", "{score}", (0, 10)),)
MORSE = (("59460-6", "Fall risk total [Morse Fall Scale]", "{score}", (0, 95)),)
SURVEYS = (("PRAPARE", PRAPARE, 0.3), ("PHQ-2", PHQ2, 0.5), ("GAD-7", GAD7, 0.25), ("AUDIT-C", AUDIT_C, 0.3),
           ("HARK", HARK, 0.2), ("DAST-10", DAST10, 0.15))

# Rows with an empty ENCOUNTER and CATEGORY, written once a year (real-data.md: 7 % of a real file).
QUALITY_OF_LIFE = (("QALY", "QALY", "a"), ("DALY", "DALY", "a"), ("QOLS", "QOLS", "{score}"))

CAUSE_OF_DEATH = ("69453-9", "Cause of Death [US Standard Certificate of Death]")
ENC_DEATH = ("308646001", "Death Certification")
NATURAL_DEATH = "Natural death with unknown cause"

# More labs, normal-ish values (code, category, description, unit, mean, sd, decimals). Several exist
# twice in real exports under a serum/plasma code beside the whole-blood one (2345-7 beside 2339-0).
EXTRA_LABS = (
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 92, 9, 1),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.9, 0.15, 2),
    ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 140, 2, 1),
    ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 4.3, 0.3, 1),
    ("2075-0", "Chloride [Moles/volume] in Serum or Plasma", "mmol/L", 103, 2, 1),
    ("2028-9", "Carbon dioxide  total [Moles/volume] in Serum or Plasma", "mmol/L", 25, 1.5, 1),
    ("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 9.4, 0.3, 1),
    ("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 14, 3, 1),
    ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 24, 8, 1),
    ("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 23, 6, 1),
    ("6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 75, 18, 1),
    ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL", 0.7, 0.2, 1),
    ("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL", 4.2, 0.3, 1),
    ("2885-2", "Protein [Mass/volume] in Serum or Plasma", "g/dL", 7.1, 0.4, 1),
    ("10834-0", "Globulin [Mass/volume] in Serum by calculation", "g/L", 3.0, 0.3, 1),
    ("789-8", "Erythrocytes [#/volume] in Blood by Automated count", "10*6/uL", 4.7, 0.4, 2),
    ("787-2", "MCV [Entitic volume] by Automated count", "fL", 89, 4, 1),
    ("785-6", "MCH [Entitic mass] by Automated count", "pg", 29.5, 1.5, 1),
    ("786-4", "MCHC [Mass/volume] by Automated count", "g/dL", 33.5, 0.8, 1),
    ("21000-5", "Erythrocyte distribution width [Entitic volume] by Automated count", "fL", 43, 3, 1),
    ("32207-3", "Platelet distribution width [Entitic volume] in Blood by Automated count", "fL", 12, 1.5, 1),
    ("32623-1", "Platelet mean volume [Entitic volume] in Blood by Automated count", "fL", 10, 1, 1),
    ("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", 2.0, 0.8, 2),
    ("14959-1", "Microalbumin/Creatinine [Mass Ratio] in Urine", "mg/g", 12, 6, 1),
    ("2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "ng/mL", 110, 50, 1),
    ("2498-4", "Iron [Mass/volume] in Serum or Plasma", "ug/dL", 95, 25, 1),
    ("2132-9", "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma", "pg/mL", 450, 120, 1),
    ("2777-1", "Phosphate [Mass/volume] in Serum or Plasma", "mg/dL", 3.6, 0.4, 1),
    ("19123-9", "Magnesium [Mass/volume] in Serum or Plasma", "mg/dL", 2.0, 0.15, 2),
    ("1989-3", "Calcidiol [Mass/volume] in Serum or Plasma", "ng/mL", 28, 9, 1),
    ("5902-2", "Prothrombin time (PT)", "s", 12, 0.8, 1),
    ("6301-6", "INR in Platelet poor plasma by Coagulation assay", "{INR}", 1.0, 0.08, 2),
    ("5811-5", "Specific gravity of Urine by Test strip", "{SG}", 1.018, 0.006, 3),
    ("5803-2", "pH of Urine by Test strip", "[pH]", 6.0, 0.5, 1),
)
# Urinalysis strips: text results (TYPE text) in the laboratory category.
URINE_TEXT = (
    ("5767-9", "Appearance of Urine", ("Clear", "Clear", "Cloudy")),
    ("5778-6", "Color of Urine", ("Yellow", "Yellow", "Straw", "Amber")),
    ("25428-4", "Glucose [Presence] in Urine by Test strip", ("Negative", "Negative", "Trace")),
    ("20454-5", "Protein [Presence] in Urine by Test strip", ("Negative", "Negative", "Trace", "1+")),
    ("5794-3", "Hemoglobin [Presence] in Urine by Test strip", ("Negative", "Negative", "Trace")),
    ("5799-2", "Leukocyte esterase [Presence] in Urine by Test strip", ("Negative", "Negative", "Small")),
    ("5802-4", "Nitrite [Presence] in Urine by Test strip", ("Negative", "Negative", "Positive")),
)
# Children's growth rows (vital-signs): percentiles and head circumference.
CHILD_GROWTH = (
    ("59576-9", "Body mass index (BMI) [Percentile] Per age and sex", "%"),
    ("8289-1", "Head Occipital-frontal circumference Percentile", "%"),
    ("9843-4", "Head Occipital-frontal circumference", "cm"),
)

# Social history conditions: Synthea starts them at a wellness visit and stops them at the next one.
FINDINGS = (
    ("160903007", "Full-time employment (finding)"), ("160904001", "Part-time employment (finding)"),
    ("73438004", "Unemployed (finding)"), ("741062008", "Not in labor force (finding)"),
    ("73595000", "Stress (finding)"), ("422650009", "Social isolation (finding)"),
    ("423315002", "Limited social contact (finding)"), ("224299000", "Received higher education (finding)"),
    ("473461003", "Received certificate of high school equivalency (finding)"),
    ("266948004", "Has a criminal record (finding)"),
    ("706893006", "Victim of intimate partner abuse (finding)"),
    ("105531004", "Housing unsatisfactory (finding)"), ("713458007", "Lack of access to transportation (finding)"),
    ("160968000", "Risk activity involvement (finding)"), ("361055000", "Misuses drugs (finding)"),
    ("314529007", "Medication review due (situation)"), ("424393004", "Reports of violence in the environment (finding)"),
)
PREGNANCY = ("72892002", "Normal pregnancy")
ENC_PRENATAL = ("424441002", "Prenatal initial visit (regime/therapy)")
# Synthea's older modules write some disorders with no suffix at all.
HYPERTENSION_PLAIN = ("38341003", "Hypertension")

# Medications (RxNorm): by condition key, then acute ones by severity.
MEDS_FOR = {
    "htn": (("314076", "lisinopril 10 MG Oral Tablet"), ("197361", "amLODIPine 5 MG Oral Tablet"),
            ("310798", "Hydrochlorothiazide 25 MG Oral Tablet")),
    "dm": (("860975", "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"),
           ("106892", ("insulin isophane  human 70 UNT/ML / insulin  regular  human 30 UNT/ML Injectable "
                      "Suspension [Humulin]"))),
    "hld": (("314231", "Simvastatin 10 MG Oral Tablet"), ("259255", "Atorvastatin 80 MG Oral Tablet")),
    "anaemia": (("310325", "ferrous sulfate 325 MG Oral Tablet"),),
    "ckd": (("197319", "Allopurinol 100 MG Oral Tablet"),),
}
MEDS_ACUTE = {
    "mild": (("313782", "Acetaminophen 325 MG Oral Tablet"), ("198405", "Ibuprofen 100 MG Oral Tablet")),
    "moderate": (("308182", "Amoxicillin 250 MG Oral Capsule"),
                 ("834061", "Penicillin V Potassium 250 MG Oral Tablet")),
    "severe": (("1665060", "cefazolin 2000 MG Injection"), ("1860480", ("Piperacillin 4000 MG / tazobactam 500 MG "
                                                                       "Injection"))),
}

# Allergies (current layout): code, system, description, type, category, reaction (code, description) or None.
ALLERGIES = (
    ("419199007", "SNOMED-CT", "Allergy to substance (finding)", "allergy", "environment", None),
    ("111088007", "SNOMED-CT", "Latex (substance)", "allergy", "environment", ("247472004", "Wheal (finding)")),
    ("7984", "RxNorm", "Penicillin V", "allergy", "medication", ("271807003", "Eruption of skin (disorder)")),
    ("762952008", "SNOMED-CT", "Peanut (substance)", "allergy", "food", ("39579001", "Anaphylaxis (disorder)")),
    ("264287008", "SNOMED-CT", "Animal dander (substance)", "allergy", "environment",
     ("21626009", "Cutaneous hypersensitivity (disorder)")),
    ("256277009", "SNOMED-CT", "Grass pollen (substance)", "allergy", "environment",
     ("76067001", "Sneezing (finding)")),
    ("1191", "RxNorm", "Aspirin", "intolerance", "medication", ("43116000", "Eczema (disorder)")),
)
SEVERITIES = ("MILD", "MODERATE", "SEVERE")

# Procedures: at wellness visits, and for acute episodes.
PROC_WELLNESS = (
    ("430193006", "Medication reconciliation (procedure)"),
    ("710824005", "Assessment of health and social care needs (procedure)"),
    ("171207006", "Depression screening (procedure)"),
    ("713106006", "Screening for drug abuse (procedure)"),
    ("428211000124100", "Assessment of substance use (procedure)"),
)
PROC_ACUTE = (("399208008", "Plain X-ray of chest (procedure)"), ("371908008", ("Oxygen administration by mask "
                                                                               "(procedure)")))
PROC_PRENATAL = ("167271000", "Standard pregnancy test (procedure)")

# Immunizations (CVX), with Synthea's double spaces.
FLU = ("140", "Influenza  seasonal  injectable  preservative free")
ADULT_VACCINES = (("113", "Td (adult) preservative free"), ("115", "Tdap"), ("133", "Pneumococcal conjugate PCV 13"),
                  ("208", ("SARS-COV-2 (COVID-19) vaccine  mRNA  spike protein  LNP  preservative free  30 mcg/0.3mL "
                          "dose")))
CHILD_VACCINES = (("20", "DTaP"), ("10", "IPV"), ("21", "varicella"), ("03", "MMR"),
                  ("08", "Hep B  adolescent or pediatric"), ("62", "HPV  quadrivalent"))
