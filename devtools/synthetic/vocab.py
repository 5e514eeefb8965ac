"""Fixed vocabularies for the synthetic cohort: names, places, codes and descriptions.

Codes and descriptions are the ones Synthea writes (shared clinical reference, section 3.1), so the
generated files exercise the same importer paths as a real Synthea export.
"""

from __future__ import annotations

FIRST_F = (
    "Eustolia", "Maria", "Aisha", "Grace", "Linda", "Mei", "Sofia", "Fatima", "Joan", "Priya", "Hannah", "Rosa",
    "Ana", "Chloe", "Ingrid", "Keisha", "Lucia", "Nadia", "Olga", "Ruth", "Yuki", "Zainab", "Emma", "Carmen",
)
FIRST_M = (
    "Lyndon", "James", "Omar", "Wei", "Carlos", "David", "Kwame", "Ivan", "Raj", "Liam", "Tomas", "Ahmed",
    "Samuel", "Hiro", "Pedro", "Mateo", "Noah", "Elijah", "Yusuf", "Arjun", "Peter", "Diego", "Felix", "Kofi",
)
LAST = (
    "Kub", "Smith", "Nguyen", "Okafor", "Garcia", "Johnson", "Müller", "Haddad", "Kowalski", "Patel", "Brown",
    "Rossi", "Silva", "Tanaka", "Mensah", "O'Brien", "Schmidt", "Hernandez", "Ivanova", "Khan", "Lopez", "Wang",
    "Dubois", "Adeyemi", "Cohen", "Larsen", "Moreno", "Sato", "Walker", "Yilmaz",
)
CITIES = (
    ("Boston", "Suffolk County", "25025", "02118", 42.35, -71.06),
    ("Worcester", "Worcester County", "25027", "01608", 42.26, -71.80),
    ("Springfield", "Hampden County", "25013", "01103", 42.10, -72.59),
    ("Cambridge", "Middlesex County", "25017", "02139", 42.37, -71.11),
    ("Lowell", "Middlesex County", "25017", "01852", 42.64, -71.32),
    ("Pittsfield", "Berkshire County", "25003", "01201", 42.45, -73.25),
)
STREETS = ("Main Street", "Oak Avenue", "Elm Road", "Harbor Way", "Maple Drive", "Union Street", "Pine Lane")
RACES = (("white", 0.62), ("black", 0.12), ("asian", 0.1), ("native", 0.02), ("other", 0.14))

# (code, description) for conditions, as Synthea writes them.
HYPERTENSION = ("59621000", "Essential hypertension (disorder)")
DIABETES = ("44054006", "Diabetes mellitus type 2 (disorder)")
PREDIABETES = ("714628002", "Prediabetes (finding)")
CKD = ("433144002", "Chronic kidney disease stage 3 (disorder)")
ANAEMIA = ("271737000", "Anemia (disorder)")
HYPERLIPIDAEMIA = ("55822004", "Hyperlipidemia (disorder)")
OBESITY = ("162864005", "Body mass index 30+ - obesity (finding)")

# Infection episodes: (code, description, usual severity weights mild/moderate/severe, children may get it)
INFECTIONS = (
    ("444814009", "Viral sinusitis (disorder)", (0.9, 0.1, 0.0), True),
    ("195662009", "Acute viral pharyngitis (disorder)", (0.85, 0.15, 0.0), True),
    ("10509002", "Acute bronchitis (disorder)", (0.7, 0.3, 0.0), True),
    ("65363002", "Otitis media (disorder)", (0.85, 0.15, 0.0), True),
    ("68566005", "Urinary tract infectious disease (disorder)", (0.6, 0.35, 0.05), False),
    ("233604007", "Pneumonia (disorder)", (0.2, 0.6, 0.2), False),
    ("840539006", "Disease caused by severe acute respiratory syndrome coronavirus 2 (disorder)", (0.55, 0.35, 0.1), False),
)
PNEUMONIA = INFECTIONS[5]
OTITIS = INFECTIONS[3]

# Encounters: class -> (code, description)
ENC_WELLNESS = ("162673000", "General examination of patient (procedure)")
ENC_WELL_CHILD = ("410620009", "Well child visit (procedure)")
ENC_FOLLOW_UP = ("390906007", "Follow-up encounter (procedure)")
ENC_PROBLEM = ("185347001", "Encounter for problem (procedure)")
ENC_SYMPTOM = ("185345009", "Encounter for symptom (procedure)")
ENC_URGENT = ("702927004", "Urgent care clinic (environment)")
ENC_EMERGENCY = ("50849002", "Emergency room admission (procedure)")
ENC_INPATIENT = ("32485007", "Hospital admission (procedure)")

# Observations: code -> (category, description, unit)
OBS = {
    "8302-2": ("vital-signs", "Body Height", "cm"),
    "29463-7": ("vital-signs", "Body Weight", "kg"),
    "39156-5": ("vital-signs", "Body mass index (BMI) [Ratio]", "kg/m2"),
    "8480-6": ("vital-signs", "Systolic Blood Pressure", "mm[Hg]"),
    "8462-4": ("vital-signs", "Diastolic Blood Pressure", "mm[Hg]"),
    "8867-4": ("vital-signs", "Heart rate", "/min"),
    "9279-1": ("vital-signs", "Respiratory rate", "/min"),
    "8310-5": ("vital-signs", "Body temperature", "Cel"),
    "2708-6": ("vital-signs", "Oxygen saturation in Arterial blood", "%"),
    "72514-3": ("vital-signs", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", "{score}"),
    "80288-4": ("vital-signs", "Level of consciousness", ""),
    "supplemental-o2": ("vital-signs", "Supplemental oxygen", ""),
    "2339-0": ("laboratory", "Glucose [Mass/volume] in Blood", "mg/dL"),
    "6299-2": ("laboratory", "Urea nitrogen [Mass/volume] in Blood", "mg/dL"),
    "38483-4": ("laboratory", "Creatinine [Mass/volume] in Blood", "mg/dL"),
    "33914-3": ("laboratory", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum  Plasma or Blood",
                "mL/min/{1.73_m2}"),
    "49765-1": ("laboratory", "Calcium [Mass/volume] in Blood", "mg/dL"),
    "2947-0": ("laboratory", "Sodium [Moles/volume] in Blood", "mmol/L"),
    "6298-4": ("laboratory", "Potassium [Moles/volume] in Blood", "mmol/L"),
    "2069-3": ("laboratory", "Chloride [Moles/volume] in Blood", "mmol/L"),
    "20565-8": ("laboratory", "Carbon dioxide  total [Moles/volume] in Blood", "mmol/L"),
    "4548-4": ("laboratory", "Hemoglobin A1c/Hemoglobin.total in Blood", "%"),
    "2093-3": ("laboratory", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL"),
    "2571-8": ("laboratory", "Triglycerides", "mg/dL"),
    "18262-6": ("laboratory", "Low Density Lipoprotein Cholesterol", "mg/dL"),
    "2085-9": ("laboratory", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL"),
    "718-7": ("laboratory", "Hemoglobin [Mass/volume] in Blood", "g/dL"),
    "4544-3": ("laboratory", "Hematocrit [Volume Fraction] of Blood by Automated count", "%"),
    "6690-2": ("laboratory", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL"),
    "777-3": ("laboratory", "Platelets [#/volume] in Blood by Automated count", "10*3/uL"),
    "1988-5": ("laboratory", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L"),
    "72166-2": ("social-history", "Tobacco smoking status", ""),
}
SMOKING = ("Never smoked tobacco (finding)", "Ex-smoker (finding)", "Smokes tobacco daily (finding)")

# Wide admissions file (Kaggle healthcare dataset + SanAssist vitals), section 3.2-3.3.
WIDE_HEADER = (
    "Name", "Age", "Gender", "Blood Type", "Medical Condition", "Date of Admission", "Doctor", "Hospital",
    "Insurance Provider", "Billing Amount", "Room Number", "Admission Type", "Discharge Date", "Medication",
    "Test Results", "Systolic BP", "Diastolic BP", "Heart Rate", "BMI", "SpO2", "Creatinine", "CRP", "WBC Count",
    "Hemoglobin",
)
# SanAssist's uniform ranges per condition: SBP, DBP, HR, BMI, SpO2, Creatinine, CRP, WBC (cells/uL), Hb.
# Integer columns use randint's exclusive upper bound, floats are rounded to one decimal (as SanAssist does).
WIDE_RANGES = {
    "Cancer": ((100, 180), (60, 100), (50, 140), (15, 40), (85, 95), (0.3, 3.0), (5, 50), (3000, 50000), (5, 14)),
    "Obesity": ((130, 200), (90, 130), (80, 150), (35, 60), (85, 95), (0.8, 2.0), (10, 50), (5000, 20000), (10, 16)),
    "Diabetes": ((140, 200), (90, 120), (60, 120), (25, 50), (80, 95), (1.0, 3.0), (5, 40), (5000, 25000), (6, 12)),
    "Asthma": ((90, 140), (60, 90), (80, 180), (18, 40), (70, 92), (0.5, 1.5), (3, 20), (4000, 15000), (8, 14)),
    "Hypertension": ((160, 220), (100, 140), (70, 110), (25, 45), (90, 97), (1.0, 2.5), (3, 20), (5000, 15000), (10, 16)),
    "Arthritis": ((110, 160), (70, 100), (60, 100), (18, 35), (85, 95), (0.5, 1.5), (10, 40), (4000, 12000), (8, 14)),
}
BLOOD_TYPES = ("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-")
INSURERS = ("Aetna", "Blue Cross", "Cigna", "Medicare", "UnitedHealthcare")
ADMISSION_TYPES = ("Emergency", "Elective", "Urgent")
MEDICATIONS = ("Aspirin", "Ibuprofen", "Lipitor", "Paracetamol", "Penicillin")
TEST_RESULTS = ("Normal", "Abnormal", "Inconclusive")
HOSPITALS = (
    "Sons and Miller", "Hernandez Rogers and Vang,", "Kim Inc", "Smith, Jones and Lee", "Group Middleton",
    "Powell Robinson and Valdez,", "Walker, Garcia and Ortiz", "LLC Bailey", "Houston PLC", "Cook PLC",
)
DOCTORS = (
    "Matthew Smith", "Kevin Wells", "Samantha Davies", "Tiffany Mitchell", "Kathleen Hanna", "Taylor Newton",
    "Kelly Olson", "Jessica Lopez", "Christopher Berg", "Alexa Joseph",
)
