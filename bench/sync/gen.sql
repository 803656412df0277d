-- Fill :tbl (created by schema.sql, empty; :pk is its primary key) with ids 1..:rows.
-- Every value is a function of the id (hashint8 of the id plus a per-column offset), so the
-- data is the same in every run and a smaller table holds exactly the first rows of a larger
-- one. Realistic, mostly distinct values: 200 first names x 200 last names, an e-mail unique
-- per row on 12 domains, US-style phone numbers (5 % NULL) and SSNs, 500 tenants, 10 years of
-- creation times. The primary key is dropped during the load and added back (faster than
-- maintaining it), then the table is VACUUM (FREEZE, ANALYZE)d.
ALTER TABLE :tbl DROP CONSTRAINT :pk;
WITH fn(a) AS (SELECT '{James,Mary,Robert,Patricia,John,Jennifer,Michael,Linda,David,Elizabeth,William,Barbara,Richard,Susan,Joseph,Jessica,Thomas,Sarah,Christopher,Karen,Charles,Lisa,Daniel,Nancy,Matthew,Betty,Anthony,Sandra,Mark,Margaret,Donald,Ashley,Steven,Kimberly,Andrew,Emily,Paul,Donna,Joshua,Michelle,Kenneth,Carol,Kevin,Amanda,Brian,Melissa,George,Deborah,Timothy,Stephanie,Ronald,Dorothy,Jason,Rebecca,Edward,Sharon,Jeffrey,Laura,Ryan,Cynthia,Jacob,Amy,Gary,Kathleen,Nicholas,Angela,Eric,Shirley,Jonathan,Brenda,Stephen,Emma,Larry,Anna,Justin,Pamela,Scott,Nicole,Brandon,Samantha,Benjamin,Katherine,Samuel,Christine,Gregory,Helen,Alexander,Debra,Patrick,Rachel,Frank,Carolyn,Raymond,Janet,Jack,Maria,Dennis,Catherine,Jerry,Heather,Tyler,Diane,Aaron,Olivia,Jose,Julie,Adam,Joyce,Nathan,Victoria,Henry,Ruth,Zachary,Virginia,Douglas,Lauren,Peter,Kelly,Kyle,Christina,Noah,Joan,Ethan,Evelyn,Jeremy,Judith,Walter,Andrea,Christian,Hannah,Keith,Megan,Roger,Cheryl,Terry,Jacqueline,Austin,Martha,Sean,Madison,Gerald,Teresa,Carl,Gloria,Harold,Sara,Dylan,Janice,Arthur,Ann,Lawrence,Kathryn,Jordan,Abigail,Jesse,Sophia,Bryan,Frances,Billy,Jean,Bruce,Alice,Gabriel,Judy,Joe,Isabella,Logan,Julia,Alan,Grace,Juan,Amber,Albert,Denise,Willie,Danielle,Elijah,Marilyn,Wayne,Beverly,Randy,Charlotte,Vincent,Natalie,Mason,Theresa,Roy,Diana,Ralph,Brittany,Bobby,Doris,Russell,Kayla,Bradley,Alexis,Philip,Lori,Eugene,Marie,Camille,Louis,Chloe,Hugo}'::text[]),
     ln(a) AS (SELECT '{Smith,Johnson,Williams,Brown,Jones,Garcia,Miller,Davis,Rodriguez,Martinez,Hernandez,Lopez,Gonzalez,Wilson,Anderson,Thomas,Taylor,Moore,Jackson,Martin,Lee,Perez,Thompson,White,Harris,Sanchez,Clark,Ramirez,Lewis,Robinson,Walker,Young,Allen,King,Wright,Scott,Torres,Nguyen,Hill,Flores,Green,Adams,Nelson,Baker,Hall,Rivera,Campbell,Mitchell,Carter,Roberts,Gomez,Phillips,Evans,Turner,Diaz,Parker,Cruz,Edwards,Collins,Reyes,Stewart,Morris,Morales,Murphy,Cook,Rogers,Gutierrez,Ortiz,Morgan,Cooper,Peterson,Bailey,Reed,Kelly,Howard,Ramos,Kim,Cox,Ward,Richardson,Watson,Brooks,Chavez,Wood,James,Bennett,Gray,Mendoza,Ruiz,Hughes,Price,Alvarez,Castillo,Sanders,Patel,Myers,Long,Ross,Foster,Jimenez,Powell,Jenkins,Perry,Russell,Sullivan,Bell,Coleman,Butler,Henderson,Barnes,Gonzales,Fisher,Vasquez,Simmons,Romero,Jordan,Patterson,Alexander,Hamilton,Graham,Reynolds,Griffin,Wallace,Moreno,West,Cole,Hayes,Bryant,Herrera,Gibson,Ellis,Tran,Medina,Aguilar,Stevens,Murray,Ford,Castro,Marshall,Owens,Harrison,Fernandez,McDonald,Woods,Washington,Kennedy,Wells,Vargas,Henry,Chen,Freeman,Webb,Tucker,Guzman,Burns,Crawford,Olson,Simpson,Porter,Hunter,Gordon,Mendez,Silva,Shaw,Snyder,Mason,Dixon,Munoz,Hunt,Hicks,Holmes,Palmer,Wagner,Black,Robertson,Boyd,Rose,Stone,Salazar,Fox,Warren,Mills,Meyer,Rice,Schmidt,Garza,Daniels,Ferguson,Nichols,Stephens,Soto,Weaver,Ryan,Gardner,Payne,Grant,Dunn,Kelley,Spencer,Hawkins,Arnold,Pierce,Vazquez,Hansen,Peters,Santos,Dubois,Lefebvre}'::text[]),
     dom(a) AS (SELECT '{gmail.com,yahoo.com,hotmail.com,outlook.com,icloud.com,aol.com,proton.me,gmx.de,orange.fr,free.fr,example.org,acme-corp.com}'::text[]),
     h AS (
        SELECT id,
               abs(hashint8(id)::bigint) AS h0, abs(hashint8(id + 7777777)::bigint) AS h1,
               abs(hashint8(id + 15555555)::bigint) AS h2, abs(hashint8(id + 23333333)::bigint) AS h3
        FROM generate_series(1, :rows::bigint) AS id)
INSERT INTO :tbl (id, tenant_id, email, phone, first_name, last_name, ssn, created_at)
SELECT h.id,
       1 + h.h0 % 500,
       lower(fn.a[1 + h.h1 % 200]) || CASE h.h2 % 3 WHEN 0 THEN '.' WHEN 1 THEN '_' ELSE '' END
           || lower(ln.a[1 + h.h2 % 200]) || h.id || '@' || dom.a[1 + h.h3 % 12],
       CASE WHEN h.h3 % 20 = 0 THEN NULL
            ELSE format('+1 (%s) %s-%s', 201 + h.h1 % 799, 200 + h.h2 % 800, lpad((h.h3 % 10000)::text, 4, '0')) END,
       fn.a[1 + h.h1 % 200],
       ln.a[1 + h.h2 % 200],
       format('%s-%s-%s', lpad((1 + h.h0 % 899)::text, 3, '0'), lpad((1 + h.h2 % 99)::text, 2, '0'),
              lpad((1 + h.h3 % 9999)::text, 4, '0')),
       timestamptz '2015-01-01 00:00:00+00' + (h.h1 % 315360000) * interval '1 second'
FROM h, fn, ln, dom;
ALTER TABLE :tbl ADD CONSTRAINT :pk PRIMARY KEY (id);
VACUUM (FREEZE, ANALYZE) :tbl;
